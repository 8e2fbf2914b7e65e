/* Whole-buffer UTF-8 check for callers outside the JSON scanner. */
#include "utf8.h"

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
