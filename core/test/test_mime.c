/* Unit tests of the MIME layer (core/src/mime.h): header unfolding,
 * parameters, base64 / quoted-printable / RFC 2047 decoding, multipart
 * walking, report-part selection and every cap. */
#include "tap.h"
#include "mime.h"

static trpt_ctx *ctx;

#define STR(lit) ((trpt_str){ (lit), sizeof(lit) - 1 })

static int str_is(trpt_str s, const char *want)
{
    return s.ptr && s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static const trpt_str *hget(const trpt_mime_hdrs *h, const char *n) { return trpt__mime_get(h, n); }

/* ------------------------------------------------------------ headers */

static void test_headers(void)
{
    trpt_mime_hdrs h;
    size_t body;
    trpt_error e;
    const char lf[] = "From someone@example.net Mon Jan  1 00:00:00 2024\n"
                      "Subject: Report\n Domain: example.net\n\tSubmitter: x\n"
                      "TLS-Report-Domain:   example.net  \n"
                      "X-Empty:\n"
                      "Bogus line without colon\n"
                      "Comments : obsolete space before colon\n"
                      "\nbody\n";
    int rc = trpt__mime_headers(ctx, lf, sizeof lf - 1, 0, &h, &body, &e);
    is_int(rc, TRPT_OK, "LF headers parse");
    is_int(h.n, 4, "mbox From line and a line without colon are skipped");
    const trpt_str *s = hget(&h, "SUBJECT");
    ok(s && str_is(*s, "Report Domain: example.net\tSubmitter: x"),
       "folded Subject unfolds, keeping the WSP after each break");
    s = hget(&h, "tls-report-domain");
    ok(s && str_is(*s, "example.net"), "values are trimmed, names case-insensitive");
    s = hget(&h, "x-empty");
    ok(s && s->len == 0 && s->ptr, "an empty field is present with an empty value");
    s = hget(&h, "comments");
    ok(s && str_is(*s, "obsolete space before colon"), "obsolete WSP before ':' accepted");
    ok(!hget(&h, "message-id"), "absent field is NULL");
    is_str(lf + body, 5, "body\n", "body starts after the empty line (LF)");

    const char crlf[] = "Subject: a\r\n b\r\nTo: x\r\n\r\nhello";
    rc = trpt__mime_headers(ctx, crlf, sizeof crlf - 1, 0, &h, &body, &e);
    is_int(rc, TRPT_OK, "CRLF headers parse");
    s = hget(&h, "subject");
    ok(s && str_is(*s, "a b"), "CRLF folding unfolds to 'a b'");
    is_str(crlf + body, 5, "hello", "body starts after CRLF CRLF");

    const char nobody[] = "Subject: only headers";
    rc = trpt__mime_headers(ctx, nobody, sizeof nobody - 1, 0, &h, &body, &e);
    ok(rc == TRPT_OK && body == sizeof nobody - 1 && h.n == 1, "no empty line: body is empty");

    rc = trpt__mime_headers(ctx, "", 0, 0, &h, &body, &e);
    ok(rc == TRPT_OK && h.n == 0 && body == 0, "empty input: no fields");

    /* Caps. */
    trpt_limits lim;
    trpt_limits_default(&lim);
    lim.max_elements = 3;
    trpt_ctx_set_limits(ctx, &lim);
    const char many[] = "A: 1\nB: 2\nC: 3\nD: 4\n\n";
    rc = trpt__mime_headers(ctx, many, sizeof many - 1, 100, &h, &body, &e);
    is_int(rc, TRPT_E_LIMIT, "more header fields than max_elements is a limit error");
    is_int(e.offset, 100 + 15, "the error points at the extra field (base added)");
    trpt_limits_default(&lim);
    lim.max_string = 10;
    trpt_ctx_set_limits(ctx, &lim);
    const char longv[] = "Subject: 0123456789\n x\n\n";
    rc = trpt__mime_headers(ctx, longv, sizeof longv - 1, 0, &h, &body, &e);
    is_int(rc, TRPT_E_LIMIT, "a folded value longer than max_string is a limit error");
    const char okv[] = "Subject: 0123456789\n\n";
    rc = trpt__mime_headers(ctx, okv, sizeof okv - 1, 0, &h, &body, &e);
    is_int(rc, TRPT_OK, "a value of exactly max_string bytes passes");
    trpt_ctx_set_limits(ctx, NULL);
}

/* ------------------------------------------------------------ parameters */

static const char *param(const trpt_mime_params *p, const char *n)
{
    static char buf[256];
    const trpt_str *v = trpt__mime_param(p, n);
    if (!v) return NULL;
    snprintf(buf, sizeof buf, "%.*s", (int)v->len, v->ptr);
    return buf;
}

static void test_params(void)
{
    trpt_mime_params p;
    trpt_error e;
    const char *v;

    int rc = trpt__mime_params(ctx, STR("Multipart/Report; boundary=\"0000abc\"; report-type=tlsrpt"),
                               &p, &e);
    ok(rc == TRPT_OK && str_is(p.value, "multipart/report"), "type/subtype lowercased");
    ok((v = param(&p, "boundary")) && !strcmp(v, "0000abc"), "quoted boundary unquoted");
    ok((v = param(&p, "report-type")) && !strcmp(v, "tlsrpt"), "unquoted token value");

    rc = trpt__mime_params(ctx, STR("multipart/report; report-type=\"tlsrpt\";\tboundary=\"----=_NextPart_000\""),
                           &p, &e);
    ok((v = param(&p, "report-type")) && !strcmp(v, "tlsrpt"), "quoted report-type");
    ok((v = param(&p, "boundary")) && !strcmp(v, "----=_NextPart_000"), "boundary with '=' inside quotes");

    rc = trpt__mime_params(ctx, STR("application/tlsrpt+gzip; \tname=\"a!b!1!2!001.json.gz\""), &p, &e);
    ok(rc == TRPT_OK && str_is(p.value, "application/tlsrpt+gzip"), "trailing '; ' then folded name=");
    ok((v = param(&p, "name")) && !strcmp(v, "a!b!1!2!001.json.gz"), "name after a folded break");

    rc = trpt__mime_params(ctx, STR("text (comment) / (another (nested)) plain ; (c) charset = (x) us-ascii (y);"),
                           &p, &e);
    ok(rc == TRPT_OK && str_is(p.value, "text/plain"), "comments around type and subtype");
    ok((v = param(&p, "charset")) && !strcmp(v, "us-ascii"), "comments around a parameter");

    rc = trpt__mime_params(ctx, STR("multipart/mixed; boundary=----=_Part_1_2.3"), &p, &e);
    ok((v = param(&p, "boundary")) && !strcmp(v, "----=_Part_1_2.3"), "lenient unquoted boundary with tspecials");

    rc = trpt__mime_params(ctx, STR("multipart/report; boundary=b1(comment); report-type=tlsrpt(x)"),
                           &p, &e);
    ok((v = param(&p, "boundary")) && !strcmp(v, "b1"), "a comment ends an unquoted value");
    ok((v = param(&p, "report-type")) && !strcmp(v, "tlsrpt"), "also at the end");

    /* A quoted-pair's backslash as the last byte of an unclosed comment:
     * every slice stays within the input (exact-size heap copy). */
    static const char tail[] = "application/tlsrpt+json; a=(b\\";
    char *exact = malloc(sizeof tail - 1);
    memcpy(exact, tail, sizeof tail - 1);
    rc = trpt__mime_params(ctx, (trpt_str){ exact, sizeof tail - 1 }, &p, &e);
    int inside = rc == TRPT_OK && str_is(p.value, "application/tlsrpt+json");
    for (size_t i = 0; inside && i < p.nparams; i++)
        inside = p.params[i].value.ptr >= exact &&
                 p.params[i].value.ptr + p.params[i].value.len <= exact + sizeof tail - 1;
    ok(inside, "a backslash ending an unclosed comment: nothing read or pointed past the end");
    free(exact);

    rc = trpt__mime_params(ctx, STR("attachment; filename=\"a\\\"b\\\\c\""), &p, &e);
    ok(rc == TRPT_OK && str_is(p.value, "attachment"), "disposition without subtype");
    ok((v = param(&p, "filename")) && !strcmp(v, "a\"b\\c"), "quoted-pairs resolved");

    rc = trpt__mime_params(ctx, STR("a/b; x=1; X=2; ;; junk; y"), &p, &e);
    ok((v = param(&p, "x")) && !strcmp(v, "1"), "first of two equal names wins (case-insensitive)");
    is_int(p.nparams, 1, "empty parameters and bare words are skipped");

    rc = trpt__mime_params(ctx, STR("a/b; name=\"unterminated"), &p, &e);
    ok((v = param(&p, "name")) && !strcmp(v, "unterminated"), "unclosed quote runs to the end");

    rc = trpt__mime_params(ctx, STR("a/b (unclosed comment; name=x"), &p, &e);
    ok(rc == TRPT_OK && str_is(p.value, "a/b") && p.nparams == 0, "unclosed comment swallows the rest");

    rc = trpt__mime_params(ctx, STR(""), &p, &e);
    ok(rc == TRPT_OK && p.value.len == 0 && p.nparams == 0, "empty value");

    /* RFC 2231 */
    rc = trpt__mime_params(ctx, STR("attachment; filename*=utf-8''%E2%82%AC%20rates.json"), &p, &e);
    ok((v = param(&p, "filename")) && !strcmp(v, "\xE2\x82\xAC rates.json"), "RFC 2231 name*= percent-decoded");
    rc = trpt__mime_params(ctx, STR("attachment; filename*=iso-8859-1'en'caf%E9"), &p, &e);
    ok((v = param(&p, "filename")) && !strcmp(v, "caf\xC3\xA9"), "RFC 2231 iso-8859-1 converted to UTF-8");
    rc = trpt__mime_params(ctx, STR("attachment; filename*1=\"!b!1!2.json\"; filename*0=\"a\""), &p, &e);
    ok((v = param(&p, "filename")) && !strcmp(v, "a!b!1!2.json"), "continuations joined in section order");
    rc = trpt__mime_params(ctx, STR("a/b; name=\"plain\"; name*0*=utf-8''x%41; name*1=\"%42\""), &p, &e);
    ok((v = param(&p, "name")) && !strcmp(v, "xA%42"), "extended sections decoded, plain ones not; beat name=");
    rc = trpt__mime_params(ctx, STR("attachment; filename*=utf-8''a%zzb%4"), &p, &e);
    ok((v = param(&p, "filename")) && !strcmp(v, "a%zzb%4"), "RFC 2231: '%%' without two hex digits kept as written");
    rc = trpt__mime_params(ctx, STR("attachment; filename*=utf-8''%4a%4A"), &p, &e);
    ok((v = param(&p, "filename")) && !strcmp(v, "JJ"), "RFC 2231: hex digits in either case");
    rc = trpt__mime_params(ctx, STR("a/b; name*0=a; name*2=c"), &p, &e);
    ok((v = param(&p, "name")) && !strcmp(v, "a"), "a gap in the sections ends the value");
    rc = trpt__mime_params(ctx, STR("a/b; name*99999999=a; name*x=b; name=ok"), &p, &e);
    ok((v = param(&p, "name")) && !strcmp(v, "ok"), "malformed or huge section numbers ignored");

    char big[2048];
    size_t n = (size_t)snprintf(big, sizeof big, "a/b");
    for (int i = 0; i <= TRPT_MIME_MAX_PARAMS; i++) n += (size_t)snprintf(big + n, sizeof big - n, "; p%d=%d", i, i);
    rc = trpt__mime_params(ctx, (trpt_str){ big, n }, &p, &e);
    is_int(rc, TRPT_E_LIMIT, "more than TRPT_MIME_MAX_PARAMS parameters is a limit error");
}

/* ------------------------------------------------------------ decoders */

static void test_base64(void)
{
    trpt_str o;
    trpt_error e;
    int rc = trpt__base64_decode(ctx, "aGVsbG8=", 8, &o, &e);
    ok(rc == TRPT_OK && str_is(o, "hello"), "base64 with padding");
    rc = trpt__base64_decode(ctx, "aGVs\r\nbG8\n", 10, &o, &e);
    ok(rc == TRPT_OK && str_is(o, "hello"), "line breaks inside and missing padding");
    rc = trpt__base64_decode(ctx, " a G\tV s b G 8 = \r\n", 19, &o, &e);
    ok(rc == TRPT_OK && str_is(o, "hello"), "junk whitespace anywhere");
    rc = trpt__base64_decode(ctx, "aGk=aGk=", 8, &o, &e);
    ok(rc == TRPT_OK && str_is(o, "hihi"), "concatenated encodings after padding");
    rc = trpt__base64_decode(ctx, "aA==", 4, &o, &e);
    ok(rc == TRPT_OK && o.len == 1 && o.ptr[0] == 'h', "two padding characters");
    rc = trpt__base64_decode(ctx, "", 0, &o, &e);
    ok(rc == TRPT_OK && o.len == 0, "empty input");
    rc = trpt__base64_decode(ctx, "+/+/", 4, &o, &e);
    ok(rc == TRPT_OK && o.len == 3 && (unsigned char)o.ptr[0] == 0xfb && (unsigned char)o.ptr[1] == 0xff &&
       (unsigned char)o.ptr[2] == 0xbf, "'+' and '/' decode to 62 and 63");

    rc = trpt__base64_decode(ctx, "aGV*bG8=", 8, &o, &e);
    ok(rc == TRPT_E_SYNTAX && e.offset == 3, "a non-alphabet character is a syntax error at its offset");
    rc = trpt__base64_decode(ctx, "aGVsb", 5, &o, &e);
    is_int(rc, TRPT_E_SYNTAX, "a lone 6-bit group at the end is a syntax error");
    rc = trpt__base64_decode(ctx, "a===", 4, &o, &e);
    is_int(rc, TRPT_E_SYNTAX, "padding after one character is a syntax error");
    rc = trpt__base64_decode(ctx, "=AAA", 4, &o, &e);
    is_int(rc, TRPT_E_SYNTAX, "leading '=' is a syntax error");
    rc = trpt__base64_decode(ctx, "aGk==", 5, &o, &e);
    is_int(rc, TRPT_E_SYNTAX, "too much padding is a syntax error");
    rc = trpt__base64_decode(ctx, "aA=A", 4, &o, &e);
    is_int(rc, TRPT_E_SYNTAX, "data between two padding characters is a syntax error");
    rc = trpt__base64_decode(ctx, "aA", 2, &o, &e);
    ok(rc == TRPT_OK && str_is(o, "h"), "two characters without padding give one byte");
    rc = trpt__base64_decode(ctx, "aGVsbA", 6, &o, &e);
    ok(rc == TRPT_OK && str_is(o, "hell"), "and after whole groups");
    rc = trpt__base64_decode(ctx, "aA=", 3, &o, &e);
    ok(rc == TRPT_OK && str_is(o, "h"), "one of two padding characters missing at the end is tolerated");
}

static void test_qp(void)
{
    trpt_str o;
    trpt_error e;
    const char a[] = "a=3Db=3d=C3=A9";
    int rc = trpt__qp_decode(ctx, a, sizeof a - 1, &o, &e);
    ok(rc == TRPT_OK && str_is(o, "a=b=\xC3\xA9"), "hex escapes, lowercase accepted");
    const char b[] = "long=\r\nline=\nend";
    rc = trpt__qp_decode(ctx, b, sizeof b - 1, &o, &e);
    ok(rc == TRPT_OK && str_is(o, "longlineend"), "soft line breaks (CRLF and LF) removed");
    const char c[] = "pad= \t\r\nded";
    rc = trpt__qp_decode(ctx, c, sizeof c - 1, &o, &e);
    ok(rc == TRPT_OK && str_is(o, "padded"), "soft break with transport padding");
    const char d[] = "trail  \r\nnext\t\nx y";
    rc = trpt__qp_decode(ctx, d, sizeof d - 1, &o, &e);
    ok(rc == TRPT_OK && str_is(o, "trail\r\nnext\nx y"), "trailing whitespace dropped, inner kept, breaks kept");
    const char f[] = "bad=ZZ=4=";
    rc = trpt__qp_decode(ctx, f, sizeof f - 1, &o, &e);
    ok(rc == TRPT_OK && str_is(o, "bad=ZZ=4"), "malformed escapes kept literally, final '=' is a soft break");
    const char g[] = "end  ";
    rc = trpt__qp_decode(ctx, g, sizeof g - 1, &o, &e);
    ok(rc == TRPT_OK && str_is(o, "end"), "whitespace at the very end dropped");
}

static void test_rfc2047(void)
{
    trpt_str o;
    trpt_error e;
#define DEC(in, want, name)                                              \
    do {                                                                 \
        int rc_ = trpt__rfc2047_decode(ctx, STR(in), &o, &e);            \
        ok(rc_ == TRPT_OK && str_is(o, want), name);                     \
        if (rc_ == TRPT_OK && !str_is(o, want))                          \
            printf("#   got '%.*s'\n", (int)o.len, o.ptr);              \
    } while (0)
    DEC("plain subject", "plain subject", "no encoded word: unchanged");
    DEC("=?utf-8?B?UmFwcG9ydCDigqw=?=", "Rapport \xE2\x82\xAC", "B word in utf-8");
    DEC("=?ISO-8859-1?Q?caf=E9_cr=E8me?=", "caf\xC3\xA9 cr\xC3\xA8me", "Q word in iso-8859-1, '_' is a space");
    DEC("=?us-ascii?q?Report_Domain:?= example.net", "Report Domain: example.net", "lowercase q, text after word kept");
    DEC("=?utf-8?Q?a?= \r\n =?utf-8?Q?b?=", "ab", "whitespace between adjacent words removed");
    DEC("x =?utf-8?Q?a?= y", "x a y", "whitespace next to plain text kept");
    DEC("=?utf-8*en?Q?lang?=", "lang", "RFC 2231 language suffix on the charset");
    DEC("=?koi8-r?B?8NLJ18XU?=", "=?koi8-r?B?8NLJ18XU?=", "unknown charset left as written");
    DEC("=?utf-8?B?/w==?=", "=?utf-8?B?/w==?=", "invalid UTF-8 left as written");
    DEC("=?us-ascii?Q?=E9?=", "=?us-ascii?Q?=E9?=", "8-bit in us-ascii left as written");
    DEC("=?utf-8?X?abc?=", "=?utf-8?X?abc?=", "unknown encoding left as written");
    DEC("=?utf-8?Q?a b?=", "=?utf-8?Q?a b?=", "space inside a word: not a word");
    DEC("=?utf-8?Q?unterminated", "=?utf-8?Q?unterminated", "unterminated word left as written");
    DEC("=?utf-8?B?***?=", "=?utf-8?B?***?=", "bad base64 left as written");
    DEC("=?utf-8?Q?=4?=", "=?utf-8?Q?=4?=", "truncated Q escape left as written");
    DEC("a?b", "a?b", "a question mark alone");
    DEC("=?utf-8?Q?caf=c3=a9?=", "caf\xC3\xA9", "Q escapes in lowercase hex (RFC 2047 4.2 asks for upper, readers take both)");
    DEC("=?utf-8?Q?" "?=", "", "empty encoded text");

    trpt_limits lim;
    trpt_limits_default(&lim);
    lim.max_string = 8;
    trpt_ctx_set_limits(ctx, &lim);
    int rc = trpt__rfc2047_decode(ctx, STR("=?iso-8859-1?Q?=E9=E9=E9=E9=E9?="), &o, &e);
    is_int(rc, TRPT_E_LIMIT, "an encoded word longer than max_string is a limit error");
    /* Latin-1 doubles: a 57-byte header of 30 encoded bytes decodes to 60
     * (the header fits max_string, the decoded text does not). */
    lim.max_string = 58;
    trpt_ctx_set_limits(ctx, &lim);
    rc = trpt__rfc2047_decode(ctx, STR("=?iso-8859-1?B?6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp?="), &o, &e);
    ok(rc == TRPT_E_LIMIT && strstr(e.message, "decoded header"),
       "decoded text longer than max_string is a limit error (%s)", rc ? e.message : "ok");
    lim.max_string = 60;
    trpt_ctx_set_limits(ctx, &lim);
    rc = trpt__rfc2047_decode(ctx, STR("=?iso-8859-1?B?6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp?="), &o, &e);
    ok(rc == TRPT_OK && o.len == 60 && !memcmp(o.ptr, "\xC3\xA9\xC3\xA9", 4), "decoded text of exactly max_string bytes");
    lim.max_string = 8;
    trpt_ctx_set_limits(ctx, &lim);
    rc = trpt__rfc2047_decode(ctx, STR("0123456789?"), &o, &e);
    is_int(rc, TRPT_E_LIMIT, "input longer than max_string is a limit error");
    trpt_ctx_set_limits(ctx, NULL);
#undef DEC
}

/* ------------------------------------------------------- report names */

static void test_rptname(void)
{
    trpt_mime_rptname n;
    ok(trpt__mime_rptname(STR("google.com!example.com!1725321600!1725407999!001.json.gz"), &n) &&
           str_is(n.submitter, "google.com") && str_is(n.domain, "example.com") &&
           n.begin == 1725321600 && n.end == 1725407999 && str_is(n.unique_id, "001") && n.gz,
       "5-field .json.gz name split");
    ok(trpt__mime_rptname(STR("a.example!b.example!1!2.JSON"), &n) && !n.gz && n.unique_id.len == 0 &&
           n.begin == 1 && n.end == 2,
       "4-field .json name, extension case-insensitive");
    ok(!trpt__mime_rptname(STR("a!b!1!2.txt"), &n), "wrong extension");
    ok(!trpt__mime_rptname(STR("a!b!1.json"), &n), "too few fields");
    ok(!trpt__mime_rptname(STR("a!b!1!2!3!4.json"), &n), "too many fields");
    ok(!trpt__mime_rptname(STR("a!b!x!2.json"), &n), "non-numeric timestamp");
    ok(!trpt__mime_rptname(STR("a!!1!2.json"), &n), "empty field");
    ok(!trpt__mime_rptname(STR("a!b!1234567890123456789!2.json"), &n), "timestamp too long to be an epoch");
    ok(!trpt__mime_rptname(STR(""), &n), "empty name");
}

/* ------------------------------------------------------- message walking */

static int find(const char *msg, trpt_mime_report *r, trpt_error *e)
{
    return trpt__mime_find_report(ctx, msg, strlen(msg), r, e);
}

#define JSON "{\"report-id\":\"x\"}"
#define JSON_B64 "eyJyZXBvcnQtaWQiOiJ4In0="

static void test_walk(void)
{
    trpt_mime_report r;
    trpt_error e;
    int rc;

    /* multipart/report, LF, base64 */
    rc = find("Subject: s\nTLS-Report-Domain: example.net\n"
              "Content-Type: multipart/report; report-type=tlsrpt; boundary=\"b1\"\n\n"
              "preamble\n--b1\nContent-Type: text/plain\n\nhello\n"
              "--b1\nContent-Type: application/tlsrpt+json\nContent-Transfer-Encoding: base64\n\n"
              JSON_B64 "\n--b1--\nepilogue\n--b1\nContent-Type: application/tlsrpt+gzip\n\nX\n", &r, &e);
    ok(rc == TRPT_OK && r.how == TRPT_MIME_IN_REPORT && r.top_is_report, "report found inside multipart/report");
    ok(str_is(r.payload, JSON), "base64 payload decoded");
    ok(str_is(r.content_type, "application/tlsrpt+json") && str_is(r.encoding, "base64"), "type and encoding");
    is_int(r.nparts, 3, "message + 2 parts; the epilogue's fake part is ignored");
    const trpt_str *d = trpt__mime_get(&r.headers, "tls-report-domain");
    ok(d && str_is(*d, "example.net"), "top-level headers returned");

    /* CRLF, quoted-printable, inline JSON identity */
    rc = find("Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n boundary=\"=_b\"\r\n\r\n"
              "--=_b\r\nContent-Type: application/tlsrpt+json\r\nContent-Transfer-Encoding: Quoted-Printable\r\n\r\n"
              "{\"a\":=\r\n\"=3D\"}\r\n--=_b--\r\n", &r, &e);
    ok(rc == TRPT_OK && str_is(r.payload, "{\"a\":\"=\"}"), "CRLF message, QP payload, folded Content-Type");
    rc = find("Content-Type: multipart/report; report-type=tlsrpt; boundary=b\n\n"
              "--b\nContent-Type: application/tlsrpt\n\n" JSON "\n--b--\n", &r, &e);
    ok(rc == TRPT_OK && str_is(r.payload, JSON) && str_is(r.content_type, "application/tlsrpt") &&
           r.payload.ptr != NULL && r.encoding.len == 0,
       "inline JSON, no CTE: the payload is the body, without the delimiter's line break");

    /* unclosed multipart with an empty last part (the Mail.ru shape) */
    rc = find("Content-Type: multipart/report; report-type=tlsrpt; boundary=\"u\"\r\n\r\n"
              "--u\r\nContent-Type: application/tlsrpt+json\r\nContent-Transfer-Encoding: base64\r\n\r\n"
              JSON_B64 "\r\n\r\n--u\r\n\r\n\r\n", &r, &e);
    ok(rc == TRPT_OK && str_is(r.payload, JSON), "unclosed multipart, empty last part");
    is_int(r.nparts, 3, "the empty trailing part is counted");
    rc = find("Content-Type: multipart/report; report-type=tlsrpt; boundary=u\n\n"
              "--u\nContent-Type: application/tlsrpt+json\n\n" JSON, &r, &e);
    ok(rc == TRPT_OK && str_is(r.payload, JSON), "unclosed multipart: the last part runs to the end");
    rc = find("Content-Type: multipart/report; report-type=tlsrpt; boundary=u\n\n"
              "--u \t\nContent-Type: application/tlsrpt+json\n\n" JSON "\n--u-- \n", &r, &e);
    ok(rc == TRPT_OK && str_is(r.payload, JSON), "transport padding after delimiters");
    rc = find("Content-Type: multipart/report; report-type=tlsrpt; boundary=u\n\n"
              "--u\nContent-Type: application/tlsrpt+json\n\n" JSON "\n--ux\n--u--\n", &r, &e);
    ok(rc == TRPT_OK && str_is(r.payload, JSON "\n--ux"), "'--ux' is not a delimiter of 'u'");

    /* nesting and selection */
    rc = find("Content-Type: multipart/mixed; boundary=o\n\n"
              "--o\nContent-Type: application/octet-stream\nContent-Disposition: attachment;\n"
              " filename=\"a.example!b.example!1!2.json\"\n\n" JSON "\n"
              "--o\nContent-Type: multipart/alternative; boundary=i\n\n"
              "--i\nContent-Type: application/tlsrpt+json\n\n{\"nested\":1}\n--i--\n"
              "--o--\n", &r, &e);
    ok(rc == TRPT_OK && r.how == TRPT_MIME_BY_TYPE && str_is(r.payload, "{\"nested\":1}"),
       "a tlsrpt media type anywhere beats a generic type with a report file name");
    ok(!r.top_is_report && str_is(r.top_type, "multipart/mixed"), "the message is not multipart/report");
    rc = find("Content-Type: multipart/mixed; boundary=o\n\n"
              "--o\nContent-Type: application/octet-stream\nContent-Disposition: attachment;\n"
              " filename=\"a.example!b.example!1!2.json\"\n\n" JSON "\n--o--\n", &r, &e);
    ok(rc == TRPT_OK && r.how == TRPT_MIME_BY_FILENAME && str_is(r.filename, "a.example!b.example!1!2.json"),
       "a generic type is taken when its file name is a report name");
    rc = find("Content-Type: multipart/mixed; boundary=o\n\n"
              "--o\nContent-Type: application/gzip; name=\"=?utf-8?Q?g!d!1!2.json.gz?=\"\n\nZZ\n--o--\n", &r, &e);
    ok(rc == TRPT_OK && str_is(r.filename, "g!d!1!2.json.gz"), "Content-Type name= used, RFC 2047 decoded");
    rc = find("Content-Type: multipart/mixed; boundary=o\n\n"
              "--o\nContent-Type: application/octet-stream; name=report.json\n\n" JSON "\n--o--\n", &r, &e);
    is_int(rc, TRPT_E_NO_REPORT, "a generic type without a report file name is not a report");
    rc = find("Content-Type: multipart/report; report-type=tlsrpt; boundary=o\n\n"
              "--o\nContent-Type: application/tlsrpt+json\n\nfirst\n"
              "--o\nContent-Type: application/tlsrpt+json\n\nsecond\n--o--\n", &r, &e);
    ok(rc == TRPT_OK && str_is(r.payload, "first"), "of two equal candidates the first wins");
    rc = find("Content-Type: multipart/report; report-type=disposition-notification; boundary=o\n\n"
              "--o\nContent-Type: application/tlsrpt+json\n\n" JSON "\n--o--\n", &r, &e);
    ok(rc == TRPT_OK && r.how == TRPT_MIME_BY_TYPE && !r.top_is_report,
       "multipart/report of another report-type is not a TLS report envelope");

    /* message/rfc822: the headers of the attached message are used */
    rc = find("Subject: Fwd: report\nContent-Type: multipart/mixed; boundary=o\n\n"
              "--o\nContent-Type: text/plain\n\nsee attached\n"
              "--o\nContent-Type: message/rfc822\n\n"
              "Subject: inner\nTLS-Report-Domain: inner.example\n"
              "Content-Type: multipart/report; report-type=tlsrpt; boundary=i\n\n"
              "--i\nContent-Type: application/tlsrpt+json\n\n" JSON "\n--i--\n"
              "--o--\n", &r, &e);
    ok(rc == TRPT_OK && r.how == TRPT_MIME_IN_REPORT && r.top_is_report, "report in a forwarded message");
    d = trpt__mime_get(&r.headers, "subject");
    ok(d && str_is(*d, "inner"), "headers come from the attached message");

    /* a non-multipart message that is itself the report */
    rc = find("Content-Type: application/tlsrpt+json\n\n" JSON, &r, &e);
    ok(rc == TRPT_OK && r.how == TRPT_MIME_BY_TYPE && str_is(r.payload, JSON), "single-part report message");

    /* failures */
    rc = find("Subject: cron\nContent-Type: text/plain\n\nhello\n", &r, &e);
    ok(rc == TRPT_E_NO_REPORT && strstr(e.message, "no TLS report"), "plain text message: no_report");
    rc = find("", &r, &e);
    is_int(rc, TRPT_E_NO_REPORT, "empty message: no_report");
    rc = find("Content-Type: multipart/report; report-type=tlsrpt\n\n--\n", &r, &e);
    is_int(rc, TRPT_E_NO_REPORT, "multipart without boundary is read as a leaf: no_report");
    rc = find("Content-Type: multipart/report; report-type=tlsrpt; boundary=b\n\nno delimiter at all\n", &r, &e);
    is_int(rc, TRPT_E_NO_REPORT, "multipart without delimiters: no_report");
    rc = find("Content-Type: application/tlsrpt+gzip\nContent-Transfer-Encoding: x-uuencode\n\nbegin\n", &r, &e);
    is_int(rc, TRPT_E_SYNTAX, "unsupported Content-Transfer-Encoding is a syntax error");
    const char badb64[] = "Content-Type: application/tlsrpt+gzip\nContent-Transfer-Encoding: base64\n\nAA*A\n";
    rc = find(badb64, &r, &e);
    ok(rc == TRPT_E_SYNTAX && e.offset == strlen(badb64) - 3, "bad base64: syntax error at its offset in the message");
    rc = find("Content-Type: application/tlsrpt+gzip\nContent-Transfer-Encoding: base64\n\nAAAAA\n", &r, &e);
    is_int(rc, TRPT_E_SYNTAX, "truncated base64 payload is a syntax error");

    char bd[400], msg[2000];
    memset(bd, 'x', TRPT_MIME_MAX_BOUNDARY + 1);
    bd[TRPT_MIME_MAX_BOUNDARY + 1] = 0;
    snprintf(msg, sizeof msg, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n--%s\n\nx\n", bd, bd);
    rc = find(msg, &r, &e);
    is_int(rc, TRPT_E_LIMIT, "a boundary longer than TRPT_MIME_MAX_BOUNDARY is a limit error");
    bd[TRPT_MIME_MAX_BOUNDARY] = 0;
    snprintf(msg, sizeof msg,
             "Content-Type: multipart/report; report-type=tlsrpt; boundary=\"%s\"\n\n--%s\n"
             "Content-Type: application/tlsrpt+json\n\n{}\n--%s--\n", bd, bd, bd);
    rc = find(msg, &r, &e);
    ok(rc == TRPT_OK && str_is(r.payload, "{}"), "a boundary of exactly TRPT_MIME_MAX_BOUNDARY works");
}

/* n levels of multipart/mixed around a report part. */
static char *nested(int n)
{
    size_t cap = (size_t)n * 120 + 200, len = 0;
    char *m = malloc(cap);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(m + len, cap - len, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
    len += (size_t)snprintf(m + len, cap - len, "Content-Type: application/tlsrpt+json\n\n{}\n");
    for (int i = n - 1; i >= 0; i--) len += (size_t)snprintf(m + len, cap - len, "--b%d--\n", i);
    return m;
}

static void test_limits(void)
{
    trpt_mime_report r;
    trpt_error e;
    trpt_limits lim;
    int rc;

    trpt_limits_default(&lim);
    lim.max_depth = 3;
    trpt_ctx_set_limits(ctx, &lim);
    char *m = nested(3);
    rc = find(m, &r, &e);
    ok(rc == TRPT_OK && str_is(r.payload, "{}"), "3 levels of multipart with max_depth 3");
    free(m);
    m = nested(4);
    rc = find(m, &r, &e);
    ok(rc == TRPT_E_LIMIT && strstr(e.message, "max_depth"), "4 levels with max_depth 3 is a limit error");
    free(m);

    /* The hard cap holds whatever the configured limit says. */
    lim.max_depth = 100000;
    trpt_ctx_set_limits(ctx, &lim);
    m = nested(TRPT_MIME_HARD_DEPTH);
    rc = find(m, &r, &e);
    is_int(rc, TRPT_OK, "TRPT_MIME_HARD_DEPTH levels pass");
    free(m);
    m = nested(TRPT_MIME_HARD_DEPTH + 1);
    rc = find(m, &r, &e);
    is_int(rc, TRPT_E_LIMIT, "one level more than TRPT_MIME_HARD_DEPTH is a limit error");
    free(m);
    m = nested(5000);
    rc = find(m, &r, &e);
    is_int(rc, TRPT_E_LIMIT, "5000 levels hit the hard depth cap, not the stack");
    free(m);
    lim.max_depth = 0;
    trpt_ctx_set_limits(ctx, &lim);
    rc = find("Content-Type: application/tlsrpt+json\n\n{}", &r, &e);
    is_int(rc, TRPT_OK, "max_depth 0 still reads a single-part message");

    trpt_limits_default(&lim);
    lim.max_elements = 3;
    trpt_ctx_set_limits(ctx, &lim);
    const char parts[] = "Content-Type: multipart/mixed; boundary=b\n\n--b\n\n1\n--b\n\n2\n--b\n\n3\n--b--\n";
    rc = find(parts, &r, &e);
    ok(rc == TRPT_E_LIMIT && strstr(e.message, "max_elements"), "more MIME parts than max_elements is a limit error");
    lim.max_elements = 4;
    trpt_ctx_set_limits(ctx, &lim);
    rc = find(parts, &r, &e);
    is_int(rc, TRPT_E_NO_REPORT, "the same message with max_elements 4 is read to the end");

    trpt_limits_default(&lim);
    lim.max_input = 10;
    trpt_ctx_set_limits(ctx, &lim);
    rc = find("Subject: 12345678901\n", &r, &e);
    is_int(rc, TRPT_E_LIMIT, "a message larger than max_input is a limit error");
    trpt_ctx_set_limits(ctx, NULL);
}

/* ------------------------------------------ security review regressions */

/* Many "=?cs?b?" starts with no "?=" until the very end: every start used to
 * scan (and base64- or Q-decode into a fresh arena block) the rest of the
 * value, so a 64 KiB Subject took ~150 MB and 1 MiB tens of GB. */
static void test_review_rfc2047_linear(void)
{
    static const char *const units[] = { "=?utf-8?b?A", "=?utf-8?q?a=" };
    for (size_t u = 0; u < 2; u++) {
        size_t n = 65536, ul = strlen(units[u]), k = 0;
        char *s = malloc(n + 2);
        if (!s) return;
        while (k + ul <= n) {
            memcpy(s + k, units[u], ul);
            k += ul;
        }
        memcpy(s + k, "?=", 2);
        k += 2;
        trpt_ctx *c = trpt_ctx_new(NULL, NULL, NULL);
        trpt_str o;
        trpt_error e;
        int rc = c ? trpt__rfc2047_decode(c, (trpt_str){ s, k }, &o, &e) : TRPT_E_NOMEM;
        ok(rc == TRPT_OK && o.len == k && memcmp(o.ptr, s, k) == 0,
           "%s... without '?=' between the starts is kept as written", units[u]);
        ok(c && trpt_ctx_bytes(c) < 16 * k, "and decoding it takes linear memory (%zu bytes for %zu)",
           c ? trpt_ctx_bytes(c) : 0, k);
        trpt_ctx_free(c);
        free(s);
    }
    trpt_str o;
    trpt_error e;
    int rc = trpt__rfc2047_decode(ctx, STR("=?utf-8?q?a?b?="), &o, &e);
    ok(rc == TRPT_OK && str_is(o, "=?utf-8?q?a?b?="), "'?' inside encoded text is no word (RFC 2047 section 2)");
}

int main(void)
{
    (void)tap_slurp; /* tap.h helpers this suite does not need */
    (void)tap_real_corpus;
    ctx = trpt_ctx_new(NULL, NULL, NULL);
    if (!ctx) return 1;
    test_headers();
    test_params();
    test_base64();
    test_qp();
    test_rfc2047();
    test_rptname();
    test_walk();
    test_limits();
    test_review_rfc2047_linear();
    trpt_ctx_free(ctx);
    return done_testing();
}
