package dev.sift.trainer.corpus;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.apache.james.mime4j.dom.Body;
import org.apache.james.mime4j.dom.Entity;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.apache.james.mime4j.dom.TextBody;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.apache.james.mime4j.stream.MimeConfig;
import org.jsoup.Jsoup;

/**
 * Turns a raw RFC 822 mail into the text a classifier reads: the decoded subject and the body's
 * readable text. MIME structure, transfer encodings (quoted-printable, base64) and charsets are
 * handled by Apache James mime4j; HTML parts become text through jsoup. When a message has both a
 * plain and an HTML alternative, the plain one is used; attachments that are not text are skipped.
 */
public final class MailText {

    /** What a classifier keeps of one mail. */
    public record Parsed(String subject, String body) {
        /** Subject and body on separate lines: the subject is often the strongest signal. */
        public String text() {
            return subject.isEmpty() ? body : body.isEmpty() ? subject : subject + "\n" + body;
        }
    }

    private static final int MAX_BODY_CHARS = 20_000;

    private MailText() {}

    public static Parsed parse(String rawMail) throws IOException {
        DefaultMessageBuilder builder = new DefaultMessageBuilder();
        builder.setMimeEntityConfig(MimeConfig.PERMISSIVE);
        // Raw mails are bytes; the corpus stores them as text, so ISO-8859-1 restores each byte.
        Message message =
                builder.parseMessage(
                        new ByteArrayInputStream(rawMail.getBytes(StandardCharsets.ISO_8859_1)));
        try {
            String subject = message.getSubject() == null ? "" : normalize(message.getSubject());
            StringBuilder body = new StringBuilder();
            appendText(message, body);
            String text = normalize(body.toString());
            if (text.length() > MAX_BODY_CHARS) {
                text = text.substring(0, MAX_BODY_CHARS);
            }
            return new Parsed(subject, text);
        } finally {
            message.dispose();
        }
    }

    private static void appendText(Entity entity, StringBuilder out) throws IOException {
        Body body = entity.getBody();
        if (body instanceof Multipart multipart) {
            boolean alternative = "alternative".equalsIgnoreCase(multipart.getSubType());
            if (alternative) {
                Entity chosen = pickAlternative(multipart);
                if (chosen != null) {
                    appendText(chosen, out);
                }
                return;
            }
            for (Entity part : multipart.getBodyParts()) {
                appendText(part, out);
            }
        } else if (body instanceof Message nested) {
            if (nested.getSubject() != null) {
                out.append(nested.getSubject()).append('\n');
            }
            appendText(nested, out);
        } else if (body instanceof TextBody text) {
            String mimeType = entity.getMimeType().toLowerCase(Locale.ROOT);
            boolean attachment = "attachment".equalsIgnoreCase(entity.getDispositionType());
            if (attachment && !mimeType.startsWith("text/")) {
                return;
            }
            String content = read(text);
            if (mimeType.equals("text/html")) {
                content = Jsoup.parse(content).text();
            } else if (!mimeType.startsWith("text/")) {
                return; // e.g. application/octet-stream declared as text by a broken mailer
            }
            out.append(content).append('\n');
        }
    }

    private static Entity pickAlternative(Multipart multipart) {
        Entity html = null;
        for (Entity part : multipart.getBodyParts()) {
            String type = part.getMimeType().toLowerCase(Locale.ROOT);
            if (type.equals("text/plain")) {
                return part;
            }
            if (type.equals("text/html") || part.getBody() instanceof Multipart) {
                html = html == null ? part : html;
            }
        }
        return html;
    }

    private static String read(TextBody body) throws IOException {
        StringBuilder text = new StringBuilder();
        try (Reader reader = body.getReader()) {
            char[] buffer = new char[8192];
            for (int n; (n = reader.read(buffer)) > 0 && text.length() < MAX_BODY_CHARS * 4; ) {
                text.append(buffer, 0, n);
            }
        }
        return text.toString();
    }

    /** Collapses runs of whitespace; drops control characters mailers leave behind. */
    static String normalize(String text) {
        StringBuilder out = new StringBuilder(text.length());
        boolean space = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isWhitespace(c) || Character.isISOControl(c) || c == '\u00a0') {
                space = out.length() > 0;
            } else {
                if (space) {
                    out.append(' ');
                    space = false;
                }
                out.append(c);
            }
        }
        return out.toString();
    }
}
