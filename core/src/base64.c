/* Base64 Content-Transfer-Encoding (RFC 2045 §6.8), decoding only. */
#include "mime.h"

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

int trpt__base64_decode(trpt_ctx *ctx, const char *p, size_t len, trpt_str *out, trpt_error *err)
{
    /* 4 characters give at most 3 bytes; whitespace only lowers that. */
    char *o = trpt_ctx_alloc(ctx, len / 4 * 3 + 3);
    if (!o) return trpt__nomem(err);
    size_t n = 0;
    unsigned acc = 0;
    int have = 0;      /* sextets in the current quantum */
    int pad = 0, need = 0; /* '=' seen / expected after a short quantum */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (is_ws(c)) continue;
        if (c == '=') {
            if (pad == 0) {
                if (have < 2)
                    return trpt__fail(err, TRPT_E_SYNTAX, i, "RFC 2045 §6.8", NULL,
                                      "misplaced '=' in base64");
                /* Flush the short quantum: 2 sextets -> 1 byte, 3 -> 2. */
                if (have == 2) {
                    o[n++] = (char)(acc >> 4);
                    need = 2;
                } else {
                    o[n++] = (char)(acc >> 10);
                    o[n++] = (char)(acc >> 2);
                    need = 1;
                }
                acc = 0;
                have = 0;
                pad = 1;
            } else if (++pad > need) {
                return trpt__fail(err, TRPT_E_SYNTAX, i, "RFC 2045 §6.8", NULL,
                                  "too much base64 padding");
            }
            continue;
        }
        int v = b64val(c);
        if (v < 0)
            return trpt__fail(err, TRPT_E_SYNTAX, i, "RFC 2045 §6.8", NULL,
                              "invalid base64 character 0x%02x", c);
        /* Data after complete padding: concatenated encodings, keep going. */
        if (pad && pad < need)
            return trpt__fail(err, TRPT_E_SYNTAX, i, "RFC 2045 §6.8", NULL,
                              "base64 data inside padding");
        pad = 0;
        acc = (acc << 6) | (unsigned)v;
        if (++have == 4) {
            o[n++] = (char)(acc >> 16);
            o[n++] = (char)(acc >> 8);
            o[n++] = (char)acc;
            acc = 0;
            have = 0;
        }
    }
    /* Missing padding at the very end is common and harmless. */
    if (have == 1)
        return trpt__fail(err, TRPT_E_SYNTAX, len, "RFC 2045 §6.8", NULL,
                          "truncated base64 (a lone 6-bit group at the end)");
    if (have == 2) {
        o[n++] = (char)(acc >> 4);
    } else if (have == 3) {
        o[n++] = (char)(acc >> 10);
        o[n++] = (char)(acc >> 2);
    }
    out->ptr = o;
    out->len = n;
    return TRPT_OK;
}
