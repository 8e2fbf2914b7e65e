/* A deflate decoder (RFC 1951) whose whole state lives on the stack. */
#ifndef TRPT_INFLATE_H
#define TRPT_INFLATE_H

#include "internal.h"

/* Decodes the raw deflate stream at in[0..n) into exactly out[0..outlen):
 * 1 when it ends with its final block having produced exactly outlen bytes
 * (*used: input bytes taken, the last one possibly in part); 0 otherwise.
 * It rejects everything zlib rejects and gives up on a few streams zlib
 * takes (incomplete Huffman codes, output that does not fit outlen): a 0
 * means "ask zlib", which words the error. No heap; 3.8 KiB of
 * stack. */
TRPT_HIDDEN int trpt__inflate_small(const unsigned char *in, size_t n, unsigned char *out,
                                    size_t outlen, size_t *used);

#endif
