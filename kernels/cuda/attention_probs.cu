// attentionWithProbs: the probing attention path, one block per (head,
// query row). It writes the row's scaled scores into its probability row,
// turns them into probabilities with the CPU's softmax (max-subtracted
// expf, sum in double, e · float(1 / sum)), records the entropy
// H = max + ln Z - Σ p·s and the sink share p[0] (kernels/cpu/attention.cpp
// softmaxRow), and multiplies by V, rounding the probabilities to F16 first
// with an F16 cache, as attentionRow does.
#include "kernels/cuda/attention.cuh"
#include "kernels/cuda/attention_util.cuh"
#include "kernels/cuda/cuda_util.cuh"

namespace glassbox::kernels::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

struct ProbsDev {
    AttentionArgs a;
    int group;
    float* probs;
    float* entropy;
    float* sink;
};

// Scaled scores of keys [0, nKeys) into row (one warp per key).
template <bool F16>
__device__ void scoreRow(const ProbsDev& p, const float* sq, int kvHead, int nKeys, float* row) {
    const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
    const int D = p.a.headDim;
    const int64_t headOff = int64_t(kvHead) * D;
    for (int j = warp; j < nKeys; j += kWarps) {
        float s = 0.0f;
        for (int d = lane; d < D; d += 32)
            s += sq[d] * detail::loadKv1<F16>(p.a.k, int64_t(j) * p.a.kvRowStride + headOff + d);
        s = detail::warpSum(s);
        if (lane == 0) row[j] = s * p.a.scale;
    }
}

// Probabilities in place; returns nothing, writes entropy and sink.
__device__ void softmaxRowStats(const ProbsDev& p, int nKeys, int total, int rowHead, float* row) {
    __shared__ float fScratch[32];
    __shared__ double dScratch[32];
    float m = -INFINITY;
    for (int j = int(threadIdx.x); j < nKeys; j += kThreads) m = fmaxf(m, row[j]);
    m = detail::blockMax(m, fScratch);
    double z = 0.0, es = 0.0;  // Σ e, Σ e·s
    for (int j = int(threadIdx.x); j < nKeys; j += kThreads) {
        const float s = row[j];
        const float e = expf(__fsub_rn(s, m));
        row[j] = e;
        z += double(e);
        es += double(e) * double(s);
    }
    z = detail::blockSum(z, dScratch);
    es = detail::blockSum(es, dScratch);
    const float inv = float(1.0 / z);
    for (int j = int(threadIdx.x); j < total; j += kThreads) row[j] = j < nKeys ? __fmul_rn(row[j], inv) : 0.0f;
    if (threadIdx.x == 0) {
        if (p.entropy) {
            const double h = double(m) + log(double(float(z))) - es / z;
            p.entropy[rowHead] = float(h > 0.0 ? h : 0.0);
        }
        if (p.sink) p.sink[rowHead] = row[0];  // thread 0 wrote row[0] itself
    }
}

template <bool F16>
__global__ void __launch_bounds__(kThreads) probsKernel(ProbsDev p) {
    __shared__ float sq[detail::kMaxAttentionHeadDim];
    __shared__ float sOut[kThreads];
    const int h = int(blockIdx.x), i = int(blockIdx.y), D = p.a.headDim;
    const int kvHead = h / p.group;
    const int pos0 = p.a.devPos0 ? *p.a.devPos0 : p.a.pos0;
    const int total = pos0 + p.a.nTokens, nKeys = pos0 + i + 1;
    const int rowHead = i * p.a.nHead + h;
    float* row = p.probs + (int64_t(h) * p.a.nTokens + i) * total;
    for (int d = int(threadIdx.x); d < D; d += kThreads) {
        const float v = p.a.q[int64_t(rowHead) * D + d];
        sq[d] = F16 ? detail::roundThroughHalf(v) : v;
    }
    __syncthreads();
    scoreRow<F16>(p, sq, kvHead, nKeys, row);
    __syncthreads();  // the row's scores are visible to the whole block
    softmaxRowStats(p, nKeys, total, rowHead, row);
    __syncthreads();

    const int groups = kThreads / D;  // >= 1 since D <= kThreads
    const int d = int(threadIdx.x) % D, g = int(threadIdx.x) / D;
    const int64_t off = int64_t(kvHead) * D + d;
    if (g < groups) {
        float o = 0.0f;
        for (int j = g; j < nKeys; j += groups) {
            const float pj = F16 ? detail::roundThroughHalf(row[j]) : row[j];
            o += pj * detail::loadKv1<F16>(p.a.v, int64_t(j) * p.a.kvRowStride + off);
        }
        sOut[g * D + d] = o;
    }
    __syncthreads();
    for (int k = int(threadIdx.x); k < D; k += kThreads) {
        float o = 0.0f;
        for (int gg = 0; gg < groups; ++gg) o += sOut[gg * D + k];
        p.a.out[int64_t(rowHead) * D + k] = o;
    }
}

}  // namespace

cudaError_t attentionWithProbs(const AttentionArgs& a, float* probs, float* entropy, float* sink, cudaStream_t stream) {
    if (!detail::validAttention(a)) return cudaErrorInvalidValue;
    if (a.nTokens == 0) return cudaSuccess;
    if (!probs) return cudaErrorInvalidValue;
    ProbsDev p{a, a.nHead / a.nHeadKv, probs, entropy, sink};
    const dim3 grid(unsigned(a.nHead), unsigned(a.nTokens));
    if (a.kvF16) {
        probsKernel<true><<<grid, kThreads, 0, stream>>>(p);
    } else {
        probsKernel<false><<<grid, kThreads, 0, stream>>>(p);
    }
    return cudaGetLastError();
}

}  // namespace glassbox::kernels::cuda
