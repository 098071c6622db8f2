package dev.sift.trainer.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MailTextTest {

    @Test
    void decodesQuotedPrintableBodiesAndEncodedSubjects() throws Exception {
        String mail =
                "From: a@example.com\r\n"
                        + "Subject: =?UTF-8?B?Q2Fmw6kgbWVldGluZw==?=\r\n"
                        + "Content-Type: text/plain; charset=UTF-8\r\n"
                        + "Content-Transfer-Encoding: quoted-printable\r\n"
                        + "\r\n"
                        + "See you at the caf=C3=A9 at noon. This line is soft-=\r\n"
                        + "wrapped.\r\n";

        MailText.Parsed parsed = MailText.parse(mail);

        assertThat(parsed.subject()).isEqualTo("Café meeting");
        assertThat(parsed.body())
                .isEqualTo("See you at the café at noon. This line is soft-wrapped.");
        assertThat(parsed.text()).isEqualTo("Café meeting\n" + parsed.body());
    }

    @Test
    void prefersThePlainAlternativeAndSkipsBinaryAttachments() throws Exception {
        String mail =
                "Subject: offer\r\n"
                        + "MIME-Version: 1.0\r\n"
                        + "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
                        + "--outer\r\n"
                        + "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
                        + "--alt\r\n"
                        + "Content-Type: text/html\r\n\r\n"
                        + "<p>HTML version</p>\r\n"
                        + "--alt\r\n"
                        + "Content-Type: text/plain\r\n\r\n"
                        + "Plain version\r\n"
                        + "--alt--\r\n"
                        + "--outer\r\n"
                        + "Content-Type: application/pdf\r\n"
                        + "Content-Disposition: attachment; filename=x.pdf\r\n"
                        + "Content-Transfer-Encoding: base64\r\n\r\n"
                        + "JVBERi0xLjQK\r\n"
                        + "--outer--\r\n";

        assertThat(MailText.parse(mail).body()).isEqualTo("Plain version");
    }

    @Test
    void turnsBase64HtmlIntoText() throws Exception {
        String html = "<html><body><h1>WIN</h1><p>Click <a href='x'>here</a> &amp; save!</p>";
        String mail =
                "Subject: deal\r\n"
                        + "Content-Type: text/html; charset=us-ascii\r\n"
                        + "Content-Transfer-Encoding: base64\r\n\r\n"
                        + java.util.Base64.getMimeEncoder().encodeToString(html.getBytes())
                        + "\r\n";

        assertThat(MailText.parse(mail).body()).isEqualTo("WIN Click here & save!");
    }
}
