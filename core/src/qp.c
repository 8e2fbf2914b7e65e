/* Quoted-printable Content-Transfer-Encoding (RFC 2045 §6.7), decoding only. */
#include "mime.h"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10; /* lowercase: robustness, §6.7 (1) */
    return -1;
}

/* Length of the line break at p[i] (LF or CRLF), 0 if none; i == len counts
 * as a break so the end of the body ends a line too. */
static size_t brk(const char *p, size_t len, size_t i)
{
    if (i == len) return 0;
    if (p[i] == '\n') return 1;
    if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n') return 2;
    return 0;
}

static int at_eol(const char *p, size_t len, size_t i) { return i == len || brk(p, len, i) > 0; }

int trpt__qp_decode(trpt_ctx *ctx, const char *p, size_t len, trpt_str *out, trpt_error *err)
{
    char *o = trpt_ctx_alloc(ctx, len + 1); /* decoding never grows */
    if (!o) return trpt__nomem(err);
    size_t n = 0, i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)p[i];
        if (c == '=') {
            /* Soft line break, possibly with transport padding before it. */
            size_t j = i + 1;
            while (j < len && (p[j] == ' ' || p[j] == '\t')) j++;
            if (at_eol(p, len, j)) {
                i = j + brk(p, len, j);
                continue;
            }
            int hi = i + 1 < len ? hexval((unsigned char)p[i + 1]) : -1;
            int lo = i + 2 < len ? hexval((unsigned char)p[i + 2]) : -1;
            if (hi >= 0 && lo >= 0) {
                o[n++] = (char)(hi << 4 | lo);
                i += 3;
            } else {
                o[n++] = '='; /* not an escape: keep it, §6.7 note (2) */
                i++;
            }
        } else if (c == ' ' || c == '\t') {
            /* Trailing whitespace was added in transport: drop it, §6.7 (3). */
            size_t j = i;
            while (j < len && (p[j] == ' ' || p[j] == '\t')) j++;
            if (!at_eol(p, len, j)) {
                memcpy(o + n, p + i, j - i);
                n += j - i;
            }
            i = j;
        } else {
            o[n++] = (char)c;
            i++;
        }
    }
    o[n] = '\0';
    out->ptr = o;
    out->len = n;
    return TRPT_OK;
}
