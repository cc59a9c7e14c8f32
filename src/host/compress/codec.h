/*
 * codec.h -- the bytes of a message of a compressor of the values (values.c), as the MPI transport carries it:
 * bit-packed, layer after layer, with exactly the bits value_ops.h counts (dc_value_layer_bits), the message then
 * padded to whole bytes.  Per layer of width m (b_v value bits: a float's or a double's bit pattern; b_i =
 * ceil(log2 m)):
 *   identity     m values
 *   top-k        k (index b_i, value b_v): the nonzero entries in index order, then the lowest zero ones up to k
 *   rand-k-c     the same; with a shared seed the k values only, at the indices the server draws itself
 *   sign         m bits, 1 = negative
 *   scaled sign  the value s, then m bits: y_j = +-s
 *   QSGD         the norm, then per coordinate a sign bit and the level xi_j in ceil(log2(s + 1)) bits
 *   natural      per coordinate a sign bit and the exponent field (8 bits of a float, 11 of a double; 0: zero)
 * Decoding checks every field (counts, indices in range and distinct, levels <= s, finite values, exponents) and
 * names what is wrong; a decoded message equals the encoded one bit for bit.
 */
#ifndef DETCGD_CODEC_H
#define DETCGD_CODEC_H

#include "backend.h"

/* Bytes of one client's message under sp (value_bits, send_indices, layers). */
int64_t dc_codec_bytes(const DcSketchSpec* sp);
/* Encodes message y (dim values, as compress_values_rows writes it, with d its draw as sketch_read gives it:
 * rand-k-c's indices, QSGD's norms) into out[0 .. dc_codec_bytes(sp)); an error (DETCGD_ERR_INTERNAL) names a
 * value the compressor cannot have written. */
int dc_codec_encode(const DcSketchSpec* sp, const double* y, const DcSketchDraw* d, unsigned char* out);
/* Decodes len bytes into y (dim values): NULL when the message is well formed, else what is wrong.  rand-k-c with
 * a shared seed draws its indices from (seed, iter, client) into draw (room for one draw of sp); mark: max_size
 * zero bytes, left zero. */
const char* dc_codec_decode(const DcSketchSpec* sp, const unsigned char* in, int64_t len, uint64_t seed, uint32_t iter,
                            uint32_t client, const DcSketchDraw* draw, unsigned char* mark, double* y);

#endif /* DETCGD_CODEC_H */
