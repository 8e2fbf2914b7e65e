/* CRC-32 as gzip (RFC 1952 §8) and zlib's crc32() define it: crc32(0, ...)
 * of the data, chained by passing the previous result. Not installed. */
#ifndef TRPT_CRC32_H
#define TRPT_CRC32_H

#include "internal.h"

#include <stdint.h>

TRPT_HIDDEN uint32_t trpt__crc32(uint32_t crc, const void *data, size_t n);

#endif
