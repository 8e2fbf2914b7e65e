/* Whole-buffer UTF-8 check for callers outside the JSON scanner, and the
 * cleaning of message texts. */
#include "utf8.h"

#include <string.h>

int trpt__utf8_valid(const char *s, size_t n)
{
    const char *p = s, *e = s + n;
    while (p < e) {
        if ((unsigned char)*p < 0x80) {
            p++;
            continue;
        }
        size_t k = trpt__utf8_seq(p, e);
        if (!k) return 0;
        p += k;
    }
    return 1;
}

/* Error and warning texts quote untrusted input: what reaches a terminal,
 * a log line or a JSON encoder must be valid UTF-8 without controls. */
void trpt__text_clean(char *s)
{
    char *p = s, *e = s + strlen(s);
    while (p < e) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) *p = '?';
            p++;
            continue;
        }
        size_t k = trpt__utf8_seq(p, e);
        /* C1 controls (U+0080-U+009F: C2 80-C2 9F) are obeyed by terminals too. */
        if (k == 2 && c == 0xC2 && (unsigned char)p[1] < 0xA0) memset(p, '?', 2);
        else if (!k) *p = '?', k = 1;
        p += k;
    }
}
