/* RFC 3339 date-time -> epoch seconds, for report date-range (RFC 8460 §4.1). */
#include "report_internal.h"

static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Is day number z (days since 1970-01-01) the first of a month? (Hinnant's
 * civil_from_days, day of month only.) */
static int first_of_month(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    return doy - (153 * mp + 2) / 5 + 1 == 1;
}

int trpt__datetime_parse(const char *s, size_t len, int64_t *epoch)
{
    static const unsigned char mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    /* full-date "T" partial-time: YYYY-MM-DDTHH:MM:SS = 19 bytes */
    if (len < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':') return -1;
    /* RFC 3339 §5.6 allows "t"; a space only its NOTE, by agreement. */
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return -1;
    int dev = s[10] == ' ' ? TRPT_DT_SPACE : 0;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        sec < 0 || sec > 60)
        return -1;
    int dim = mdays[mo - 1] + (mo == 2 && leap(y));
    if (d > dim) return -1;
    size_t i = 19;
    if (i < len && s[i] == '.') { /* time-secfrac: ignored, reports count whole seconds */
        size_t st = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9') i++;
        if (i == st) return -1;
    }
    int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    if (i == len) {
        dev |= TRPT_DT_NO_ZONE; /* no time-offset: read as UTC, caller warns */
    } else if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        /* UTC */
    } else if ((s[i] == '+' || s[i] == '-') && len - i == 6 && s[i + 3] == ':') {
        int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59) return -1;
        int64_t off = oh * 3600 + om * 60;
        t = s[i] == '+' ? t - off : t + off;
    } else {
        return -1;
    }
    /* RFC 3339 §5.7: "60" only ends a month (23:59:60 UTC, which reads as the
     * next day's midnight here); whether that month had one is left open. */
    if (sec == 60) {
        int64_t days = t / 86400 - (t % 86400 < 0);
        if (t - days * 86400 != 0 || !first_of_month(days)) return -1;
    }
    *epoch = t;
    return dev;
}
