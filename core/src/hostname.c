/* Domain-name syntax check (hostname.h). */
#include "hostname.h"

int trpt__domain_ok(const char *s, size_t n, int wildcard)
{
    if (!s) return 0;
    if (wildcard && n >= 2 && s[0] == '*' && s[1] == '.') {
        s += 2;
        n -= 2;
    }
    if (n && s[n - 1] == '.') n--; /* absolute form */
    if (n == 0 || n > 253) return 0;
    size_t label = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? s[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-') return 0;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            label++;
        } else if (c == '-') {
            if (label == 0) return 0; /* leading hyphen */
            label++;
        } else {
            return 0;
        }
    }
    return 1;
}
