package dev.sift.model.bundle;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/** Folder operations that bundles and the registry need to appear atomically. */
public final class Directories {

    private Directories() {}

    /**
     * Renames {@code source} to {@code target} in one step. Fails with {@link
     * FileAlreadyExistsException} when {@code target} already exists, which is how two writers
     * racing for the same version learn that one of them lost.
     */
    public static void moveAtomically(Path source, Path target) throws IOException {
        if (Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString());
        }
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            throw e;
        } catch (FileSystemException e) {
            // rename(2) onto a folder another writer filled between our check and our move fails
            // with ENOTEMPTY, which Java reports as a bare FileSystemException ("Directory not
            // empty"), not as DirectoryNotEmptyException. Either way: we lost the race.
            if (Files.exists(target)) {
                throw new FileAlreadyExistsException(target.toString());
            }
            throw e;
        }
    }

    public static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
