package dev.sift.deploy;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shape of Sift's production code, checked on the compiled classes of every module: Maven
 * already refuses cycles between modules; this refuses them between packages.
 */
class ArchitectureTest {

    private static JavaClasses production;

    @BeforeAll
    static void importProductionClasses() {
        production =
                new ClassFileImporter()
                        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .withImportOption(location -> !location.contains("-tests.jar"))
                        .importPackages("dev.sift");
    }

    @Test
    void everyModuleIsImported() {
        assertThat(production.stream().map(c -> c.getPackageName().split("\\.")[2]).distinct())
                .contains("schemas", "model", "serving", "trainer", "job", "sql", "demo", "kafka");
    }

    @Test
    void packagesHaveNoCycles() {
        slices().matching("dev.sift.(**)").should().beFreeOfCycles().check(production);
    }
}
