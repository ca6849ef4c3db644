// Flash-style causal attention (online softmax) over the device KV cache.
//
// Grid: x = KV head × head block (up to 8 query heads of one GQA group per
// block, so each K/V row read serves all of them), y = query row, z = key
// split. A block has 4 warps; each warp is cut into "slots" of lpk lanes
// (lpk = a power of two >= headDim / 4, at least 8); a slot's lanes hold 4
// (or 8, headDim > 128) dimensions each and it takes a few keys per step,
// loading them all before use. Per key a slot computes q·k (shuffle-reduced
// within the slot), scales it and folds it into its running (max, sum,
// accumulator) per head. Slots are merged in shared memory at the end. With
// a workspace and few blocks, the keys are split (z) and a second kernel
// merges the partial results.
//
// Math as the CPU's attentionRow: with an F16 cache the query is rounded to
// F16 first; scores are scale · (q·k) in float; exp of max-subtracted scores.
#include "kernels/cuda/attention.cuh"

#include "kernels/cuda/attention_util.cuh"
#include "kernels/cuda/cuda_util.cuh"

namespace glassbox::kernels::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
constexpr int kMaxSlots = kWarps * 32 / 8;  // lpk >= 8
constexpr int kMaxSplits = 32;
constexpr int kSplitMinKeys = 128;
constexpr int kTargetBlocks = 256;

struct FlashDev {
    const float* q;
    const void* k;
    const void* v;
    int kvRowStride;
    int pos0;
    const int* devPos0;
    int maxKeys;  // > 0: clamp on the key count (graph replay)
    int nHead, headDim, lpk;
    float scale;
    int group, headsPerBlock, blocksPerKv;
    int nSplit, splitKeys;
    float* partial;  // nSplit > 1: per (row, head, split) max, sum, acc[headDim]
    float* out;
};

// Online-softmax state of one head in one lane.
template <int NC>
struct HeadState {
    float m, l;
    float acc[NC][4];
};

template <int NC>
__device__ __forceinline__ void fold(HeadState<NC>& st, float s, const float (&v)[NC][4]) {
    if (s > st.m) {
        const float c = expf(st.m - s);  // 0 for the first key (m = -inf)
        st.l = st.l * c + 1.0f;
#pragma unroll
        for (int c4 = 0; c4 < NC; ++c4)
#pragma unroll
            for (int e = 0; e < 4; ++e) st.acc[c4][e] = st.acc[c4][e] * c + v[c4][e];
        st.m = s;
    } else {
        const float p = expf(s - st.m);
        st.l += p;
#pragma unroll
        for (int c4 = 0; c4 < NC; ++c4)
#pragma unroll
            for (int e = 0; e < 4; ++e) st.acc[c4][e] += p * v[c4][e];
    }
}

// Shared-memory merge of the slots' states; then row output or partials.
template <int NC, int HG>
__device__ void mergeSlots(const FlashDev& p, HeadState<NC> (&st)[HG], int nh, int hFirst, int row) {
    __shared__ float sAcc[HG][kWarps * 32 * 4 * NC];  // [head][slot * headDim + d]
    __shared__ float sM[HG][kMaxSlots], sL[HG][kMaxSlots], sF[HG][kMaxSlots];
    __shared__ float sMax[HG], sSum[HG];
    const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
    const int lpk = p.lpk, sub = lane & (lpk - 1), slot = warp * (32 / lpk) + lane / lpk;
    const int nSlots = kWarps * (32 / lpk), D = p.headDim;
#pragma unroll
    for (int g = 0; g < HG; ++g) {
        if (g >= nh) break;
#pragma unroll
        for (int c = 0; c < NC; ++c) {
            const int chunk = sub + lpk * c;
            if (4 * chunk < D)
#pragma unroll
                for (int e = 0; e < 4; ++e) sAcc[g][slot * D + 4 * chunk + e] = st[g].acc[c][e];
        }
        if (sub == 0) {
            sM[g][slot] = st[g].m;
            sL[g][slot] = st[g].l;
        }
    }
    __syncthreads();
    if (int(threadIdx.x) < nh) {
        const int g = int(threadIdx.x);
        float M = -INFINITY;
        for (int s = 0; s < nSlots; ++s) M = fmaxf(M, sM[g][s]);
        float L = 0.0f;
        for (int s = 0; s < nSlots; ++s) {
            const float f = sM[g][s] == -INFINITY ? 0.0f : expf(sM[g][s] - M);
            sF[g][s] = f;
            L += sL[g][s] * f;
        }
        sMax[g] = M;
        sSum[g] = L;
    }
    __syncthreads();
    for (int idx = int(threadIdx.x); idx < nh * D; idx += kThreads) {
        const int g = idx / D, d = idx % D;
        float o = 0.0f;
        for (int s = 0; s < nSlots; ++s) o += sAcc[g][s * D + d] * sF[g][s];
        const int64_t rowHead = int64_t(row) * p.nHead + hFirst + g;
        if (p.nSplit == 1) {
            p.out[rowHead * D + d] = o / sSum[g];
        } else {
            float* part = p.partial + (rowHead * p.nSplit + blockIdx.z) * (D + 2);
            part[2 + d] = o;
            if (d == 0) {
                part[0] = sMax[g];
                part[1] = sSum[g];
            }
        }
    }
}

template <bool F16, int NC, int HG>
__global__ void __launch_bounds__(kThreads) flashKernel(FlashDev p) {
    const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
    const int lpk = p.lpk, kp = 32 / lpk, nSlots = kWarps * kp;
    const int sub = lane & (lpk - 1), slotInWarp = lane / lpk;
    const int D = p.headDim;
    const int kvHead = int(blockIdx.x) / p.blocksPerKv;
    const int hFirst = kvHead * p.group + (int(blockIdx.x) % p.blocksPerKv) * p.headsPerBlock;
    const int nh = min(p.headsPerBlock, (kvHead + 1) * p.group - hFirst);
    const int row = int(blockIdx.y);
    int nKeys = (p.devPos0 ? *p.devPos0 : p.pos0) + row + 1;
    if (p.maxKeys > 0 && nKeys > p.maxKeys) nKeys = p.maxKeys;
    const int kBegin = int(blockIdx.z) * p.splitKeys;
    const int kEnd = min(nKeys, kBegin + p.splitKeys);

    float q[HG][NC][4];
    HeadState<NC> st[HG];
#pragma unroll
    for (int g = 0; g < HG; ++g) {
        st[g].m = -INFINITY;
        st[g].l = 0.0f;
#pragma unroll
        for (int c = 0; c < NC; ++c) {
            const int chunk = sub + lpk * c;
            const bool use = g < nh && 4 * chunk < D;
            const float* src = p.q + (int64_t(row) * p.nHead + hFirst + g) * D + 4 * chunk;
            const float4 v = use ? *reinterpret_cast<const float4*>(src) : make_float4(0.f, 0.f, 0.f, 0.f);
            q[g][c][0] = v.x, q[g][c][1] = v.y, q[g][c][2] = v.z, q[g][c][3] = v.w;
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                if (F16) q[g][c][e] = detail::roundThroughHalf(q[g][c][e]);
                st[g].acc[c][e] = 0.0f;
            }
        }
    }

    // Each slot takes KU keys per step (key j0 + u * kp + slot), loading all
    // of them before using any, so several rows are in flight per warp.
    constexpr int KU = NC * HG <= 4 ? 4 : (NC * HG <= 8 ? 2 : 1);
    const int64_t headOff = int64_t(kvHead) * D;
    for (int j0 = kBegin + warp * kp * KU; j0 < kEnd; j0 += nSlots * KU) {  // uniform per warp
        float kk[KU][NC][4], vv[KU][NC][4];
#pragma unroll
        for (int u = 0; u < KU; ++u) {
            const int j = j0 + u * kp + slotInWarp;
#pragma unroll
            for (int c = 0; c < NC; ++c) {
                const int chunk = sub + lpk * c;
                if (j < kEnd && 4 * chunk < D) {
                    detail::loadKv4<F16>(p.k, j, p.kvRowStride, headOff + 4 * chunk, kk[u][c]);
                    detail::loadKv4<F16>(p.v, j, p.kvRowStride, headOff + 4 * chunk, vv[u][c]);
                } else {
#pragma unroll
                    for (int e = 0; e < 4; ++e) kk[u][c][e] = vv[u][c][e] = 0.0f;
                }
            }
        }
#pragma unroll
        for (int u = 0; u < KU; ++u) {
            const bool valid = j0 + u * kp + slotInWarp < kEnd;
#pragma unroll
            for (int g = 0; g < HG; ++g) {
                if (g >= nh) break;  // uniform per block
                float s = 0.0f;
#pragma unroll
                for (int c = 0; c < NC; ++c)
#pragma unroll
                    for (int e = 0; e < 4; ++e) s += q[g][c][e] * kk[u][c][e];
                for (int o = lpk >> 1; o > 0; o >>= 1) s += __shfl_xor_sync(detail::kFullMask, s, o);
                if (valid) fold(st[g], s * p.scale, vv[u]);
            }
        }
    }
    mergeSlots<NC, HG>(p, st, nh, hFirst, row);
}

// out = merge of the nSplit partial results of each (row, head).
__global__ void __launch_bounds__(kThreads) mergeSplits(FlashDev p) {
    const int h = int(blockIdx.x), row = int(blockIdx.y), D = p.headDim;
    const int64_t rowHead = int64_t(row) * p.nHead + h;
    const float* part = p.partial + rowHead * p.nSplit * (D + 2);
    float M = -INFINITY;
    for (int s = 0; s < p.nSplit; ++s) M = fmaxf(M, part[s * (D + 2)]);
    float L = 0.0f;
    for (int s = 0; s < p.nSplit; ++s) {
        const float m = part[s * (D + 2)];
        if (m != -INFINITY) L += part[s * (D + 2) + 1] * expf(m - M);
    }
    for (int d = int(threadIdx.x); d < D; d += kThreads) {
        float o = 0.0f;
        for (int s = 0; s < p.nSplit; ++s) {
            const float m = part[s * (D + 2)];
            if (m != -INFINITY) o += part[s * (D + 2) + 2 + d] * expf(m - M);
        }
        p.out[rowHead * D + d] = o / L;
    }
}

struct Plan {
    int headsPerBlock, blocksPerKv, hg, nc, lpk;
    int nSplit, splitKeys;
};

Plan planFor(const AttentionArgs& a) {
    Plan pl;
    const int group = a.nHead / a.nHeadKv;
    pl.headsPerBlock = group < 8 ? group : 8;
    pl.blocksPerKv = int(detail::ceilDiv(group, pl.headsPerBlock));
    pl.hg = 1;
    while (pl.hg < pl.headsPerBlock) pl.hg <<= 1;
    pl.nc = a.headDim > 128 ? 2 : 1;
    pl.lpk = 8;
    while (pl.lpk < 32 && 4 * pl.lpk < a.headDim) pl.lpk <<= 1;
    const int keys = a.devPos0 ? a.maxKeys : a.pos0 + a.nTokens;
    const int64_t blocks = int64_t(a.nTokens) * a.nHeadKv * pl.blocksPerKv;
    int split = 1;
    if (blocks < kTargetBlocks && keys >= 2 * kSplitMinKeys) {
        const int byKeys = keys / kSplitMinKeys;
        const int byFill = int(detail::ceilDiv(kTargetBlocks, blocks));
        split = byKeys < byFill ? byKeys : byFill;
        split = split < kMaxSplits ? split : kMaxSplits;
    }
    pl.nSplit = split;
    pl.splitKeys = int(detail::ceilDiv(keys, split));
    return pl;
}

size_t workspaceBytes(const AttentionArgs& a, const Plan& pl) {
    if (pl.nSplit <= 1) return 0;
    return size_t(a.nTokens) * size_t(a.nHead) * size_t(pl.nSplit) * size_t(a.headDim + 2) * sizeof(float);
}

template <bool F16, int NC, int HG>
void launchFlash(const FlashDev& d, dim3 grid, cudaStream_t s) {
    flashKernel<F16, NC, HG><<<grid, kThreads, 0, s>>>(d);
}

template <bool F16, int NC>
void launchHeads(const FlashDev& d, int hg, dim3 grid, cudaStream_t s) {
    switch (hg) {
    case 1: return launchFlash<F16, NC, 1>(d, grid, s);
    case 2: return launchFlash<F16, NC, 2>(d, grid, s);
    case 4: return launchFlash<F16, NC, 4>(d, grid, s);
    default: return launchFlash<F16, NC, 8>(d, grid, s);
    }
}

}  // namespace

size_t attentionWorkspaceBytes(const AttentionArgs& a) {
    if (!detail::validAttentionShape(a) || a.nTokens == 0) return 0;
    return workspaceBytes(a, planFor(a));
}

cudaError_t flashAttention(const AttentionArgs& a, cudaStream_t stream) {
    if (!detail::validAttention(a)) return cudaErrorInvalidValue;
    if (a.nTokens == 0) return cudaSuccess;
    Plan pl = planFor(a);
    if (pl.nSplit > 1 && (!a.workspace || !detail::aligned(a.workspace, 16))) {
        pl.nSplit = 1;
        pl.splitKeys = a.devPos0 ? a.maxKeys : a.pos0 + a.nTokens;
    }
    FlashDev d;
    d.q = a.q;
    d.k = a.k;
    d.v = a.v;
    d.kvRowStride = a.kvRowStride;
    d.pos0 = a.pos0;
    d.devPos0 = a.devPos0;
    d.maxKeys = a.devPos0 ? a.maxKeys : 0;
    d.nHead = a.nHead;
    d.headDim = a.headDim;
    d.lpk = pl.lpk;
    d.scale = a.scale;
    d.group = a.nHead / a.nHeadKv;
    d.headsPerBlock = pl.headsPerBlock;
    d.blocksPerKv = pl.blocksPerKv;
    d.nSplit = pl.nSplit;
    d.splitKeys = pl.splitKeys;
    d.partial = static_cast<float*>(a.workspace);
    d.out = a.out;
    const dim3 grid(unsigned(a.nHeadKv * pl.blocksPerKv), unsigned(a.nTokens), unsigned(pl.nSplit));
    if (a.kvF16) {
        pl.nc == 1 ? launchHeads<true, 1>(d, pl.hg, grid, stream) : launchHeads<true, 2>(d, pl.hg, grid, stream);
    } else {
        pl.nc == 1 ? launchHeads<false, 1>(d, pl.hg, grid, stream) : launchHeads<false, 2>(d, pl.hg, grid, stream);
    }
    if (pl.nSplit > 1) {
        const cudaError_t e = cudaGetLastError();
        if (e != cudaSuccess) return e;
        mergeSplits<<<dim3(unsigned(a.nHead), unsigned(a.nTokens)), kThreads, 0, stream>>>(d);
    }
    return cudaGetLastError();
}

}  // namespace glassbox::kernels::cuda
