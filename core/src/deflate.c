/* gzip compression for generated reports (application/tlsrpt+gzip,
 * RFC 8460 §5.3). zlib's gzip wrapper writes mtime 0 and no file name, so
 * the same report always gives the same bytes. */
#include "builder.h"
#include "zalloc.h"

int trpt__bld_gzip(trpt_ctx *c, const char *in, size_t len, bld_buf *out, trpt_error *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    trpt__zstream_use(&z, c);
    /* windowBits 15 + 16: gzip header and trailer (RFC 1952) */
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return trpt__fail(err, TRPT_E_NOMEM, TRPT_NO_OFFSET, NULL, NULL, "deflateInit2 failed");
    int rc = TRPT_OK;
    /* avail_in / avail_out are 32-bit: feed and drain in slices. */
    const size_t slice = (size_t)1 << 30;
    size_t done = 0;
    char chunk[16384];
    for (;;) {
        size_t take = len - done < slice ? len - done : slice;
        z.next_in = (Bytef *)(uintptr_t)(in + done);
        z.avail_in = (uInt)take;
        int flush = done + take == len ? Z_FINISH : Z_NO_FLUSH;
        int zr;
        do {
            z.next_out = (Bytef *)chunk;
            z.avail_out = sizeof chunk;
            zr = deflate(&z, flush);
            if (zr == Z_STREAM_ERROR) break;
            if (trpt__buf_add(c, out, chunk, sizeof chunk - z.avail_out)) {
                zr = Z_MEM_ERROR;
                break;
            }
        } while (z.avail_out == 0);
        if (zr == Z_STREAM_ERROR || zr == Z_MEM_ERROR) {
            rc = trpt__fail(err, TRPT_E_NOMEM, TRPT_NO_OFFSET, NULL, NULL, "deflate failed");
            break;
        }
        done += take;
        if (flush == Z_FINISH) break;
    }
    deflateEnd(&z);
    return rc;
}

int trpt_builder_gzip(trpt_builder *b, trpt_str *out, trpt_error *err)
{
    if (!b || !out) return trpt__fail(err, TRPT_E_ARG, TRPT_NO_OFFSET, NULL, NULL, "NULL argument");
    bld_buf json = { 0 }, gz = { 0 };
    int rc = trpt__bld_render_json(b, &json, err);
    if (!rc) rc = trpt__bld_gzip(b->arena, json.p, json.len, &gz, err);
    trpt__buf_free(b->arena, &json);
    if (rc) {
        trpt__buf_free(b->arena, &gz);
        return rc;
    }
    trpt__bld_set_out(b, &gz, out);
    return TRPT_OK;
}
