// The attention cases of tst_cuda_ops and their checks: a random KV cache
// (F16 via the CPU's storeRowF16, or F32; rows past the last position hold
// NaN so any read beyond the causal range shows), the CPU reference from
// kernels::attentionRow / attentionScores per (query row, head), and the
// GPU paths run on the same bytes. Needs a CUDA build.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "cuda_test_support.h"
#include "engine/tensor_types.h"
#include "kernels/cpu/attention.h"
#include "kernels/cuda/attention.cuh"

namespace glassbox::test {

struct AttentionCase {
    int nHead, nHeadKv, headDim, nTokens, pos0;
    bool f16 = true;
    bool split = false;  // give flashAttention a workspace (expects a split)
    bool graph = false;  // pos0 from device memory, launch sized by maxKeys
    int padStride = 0;   // extra elements per cache row

    std::string text() const {
        return std::to_string(nHead) + "/" + std::to_string(nHeadKv) + " heads, dim " + std::to_string(headDim) + ", " +
               std::to_string(nTokens) + " rows at " + std::to_string(pos0) + (f16 ? " f16" : " f32") +
               (split ? " split" : "") + (graph ? " graph" : "") + (padStride ? " padded" : "");
    }
};

inline const std::vector<AttentionCase>& attentionCases() {
    static const std::vector<AttentionCase> cases = {
        {8, 8, 64, 1, 0},
        {8, 8, 128, 1, 1, false},
        {6, 2, 128, 1, 100},
        {32, 4, 128, 1, 1999},
        {8, 1, 64, 1, 2100, false},
        {32, 8, 128, 3, 0},
        {12, 4, 64, 17, 5, false},
        {32, 8, 128, 64, 0},
        {8, 8, 128, 64, 300, false},
        {16, 2, 64, 128, 1000},
        {32, 32, 128, 5, 2050},
        {1, 1, 64, 1, 0, false},
        {4, 1, 128, 7, 9},
        {8, 2, 96, 9, 40},
        {4, 4, 256, 2, 600, false},
        {16, 16, 256, 1, 100},
        {9, 3, 128, 33, 66, false},
        {32, 2, 64, 1, 700},
        {8, 8, 32, 4, 12, false},
        {24, 8, 80, 3, 20},
        {5, 5, 64, 100, 0},
        {2, 1, 128, 256, 0, false},
        {32, 8, 128, 1, 1500, true, false, true},
        {8, 2, 64, 1, 0, false, false, true},
        {32, 4, 128, 4, 777, true, false, true},
        {8, 2, 64, 3, 50, true, false, false, 8},
        {32, 8, 128, 1, 1999, true, true},
        {8, 1, 64, 1, 4000, false, true},
        {32, 8, 128, 1, 3000, true, true, true},
        {6, 2, 128, 2, 900, true, true},
        {32, 32, 128, 1, 600, false, true},
        {4, 4, 256, 1, 2047, true, true},
    };
    return cases;
}

// Host data of one case and the CPU's results.
struct AttentionData {
    int total = 0, stride = 0, rows = 0;  // positions used, elements per row, rows allocated
    std::vector<float> q;
    std::vector<uint8_t> k, v;  // cache bytes, rows >= total are NaN
    std::vector<float> out, probs, entropy, sink;
};

inline std::vector<uint8_t> cacheBytes(const AttentionCase& c, const std::vector<float>& f, int rows, int stride) {
    const size_t elem = c.f16 ? 2 : 4;
    std::vector<uint8_t> bytes(size_t(rows) * stride * elem, 0xff);
    const size_t used = f.size();
    if (c.f16)
        kernels::storeRowF16(f.data(), reinterpret_cast<uint16_t*>(bytes.data()), int64_t(used));
    else
        std::memcpy(bytes.data(), f.data(), used * 4);
    return bytes;
}

inline AttentionData attentionData(const AttentionCase& c, uint32_t seed) {
    AttentionData d;
    d.total = c.pos0 + c.nTokens;
    d.stride = c.nHeadKv * c.headDim + c.padStride;
    d.rows = d.total + 40;
    d.q = normalData(size_t(c.nTokens) * c.nHead * c.headDim, seed);
    d.k = cacheBytes(c, normalData(size_t(d.total) * d.stride, seed + 1), d.rows, d.stride);
    d.v = cacheBytes(c, normalData(size_t(d.total) * d.stride, seed + 2), d.rows, d.stride);
    d.out.assign(d.q.size(), 0.0f);
    d.probs.assign(size_t(c.nHead) * c.nTokens * d.total, 0.0f);
    d.entropy.assign(size_t(c.nTokens) * c.nHead, 0.0f);
    d.sink.assign(d.entropy.size(), 0.0f);
    const size_t elem = c.f16 ? 2 : 4;
    std::vector<float> scores(size_t(d.total)), scratch(size_t(d.total));
    for (int i = 0; i < c.nTokens; ++i)
        for (int h = 0; h < c.nHead; ++h) {
            const size_t kvOff = size_t(h / (c.nHead / c.nHeadKv)) * c.headDim * elem;
            const size_t rowHead = size_t(i) * c.nHead + h;
            kernels::AttentionRowStats stats;
            kernels::AttentionRowArgs a;
            a.q = &d.q[rowHead * c.headDim];
            a.k = d.k.data() + kvOff;
            a.v = d.v.data() + kvOff;
            a.kvIsF16 = c.f16;
            a.kvRowStride = d.stride;
            a.headDim = c.headDim;
            a.nKeys = c.pos0 + i + 1;
            a.scale = 1.0f / std::sqrt(float(c.headDim));
            a.scores = scores.data();
            a.out = &d.out[rowHead * c.headDim];
            a.statsScratch = scratch.data();
            a.stats = &stats;
            kernels::attentionRow(a);
            d.entropy[rowHead] = stats.entropy;
            d.sink[rowHead] = stats.sink;
            a.scores = &d.probs[(size_t(h) * c.nTokens + i) * d.total];
            kernels::attentionScores(a, true);
        }
    return d;
}

// Device copies of a case's inputs and the arguments pointing at them.
struct AttentionDevice {
    std::unique_ptr<DevBuf> q, k, v, pos, out;
    kernels::cuda::AttentionArgs args;
};

inline AttentionDevice attentionDevice(const AttentionCase& c, const AttentionData& d) {
    AttentionDevice dev;
    dev.q = uploaded(d.q);
    dev.k = uploaded(d.k);
    dev.v = uploaded(d.v);
    dev.pos = uploaded(std::vector<int>{c.pos0});
    dev.out = std::make_unique<DevBuf>(d.out.size() * 4);
    kernels::cuda::AttentionArgs& a = dev.args;
    a.q = dev.q->as<float>();
    a.k = dev.k->get();
    a.v = dev.v->get();
    a.kvF16 = c.f16;
    a.kvRowStride = d.stride;
    a.nTokens = c.nTokens;
    a.pos0 = c.graph ? 0 : c.pos0;  // graph: only the device value counts
    a.nHead = c.nHead;
    a.nHeadKv = c.nHeadKv;
    a.headDim = c.headDim;
    a.scale = 1.0f / std::sqrt(float(c.headDim));
    a.out = dev.out->as<float>();
    if (c.graph) {
        a.devPos0 = dev.pos->as<int>();
        a.maxKeys = d.total + 37;
    }
    return dev;
}

inline std::string compareTo(const DevBuf& got, const std::vector<float>& want, double limit, const char* what) {
    const double e = nmse(got.download<float>(want.size()).data(), want.data(), want.size());
    if (!(e <= limit)) return std::string(what) + " NMSE " + std::to_string(e);
    return got.guardsIntact() ? "" : std::string(what) + " sentinel bytes overwritten";
}

inline std::string checkFlashAttention(const AttentionCase& c) {
    const AttentionData d = attentionData(c, uint32_t(c.nHead * 7919 + c.pos0 * 31 + c.nTokens));
    AttentionDevice dev = attentionDevice(c, d);
    std::unique_ptr<DevBuf> workspace;
    if (c.split) {
        const size_t bytes = kernels::cuda::attentionWorkspaceBytes(dev.args);
        if (bytes == 0) return "no key split planned for this case";
        workspace = std::make_unique<DevBuf>(bytes);
        dev.args.workspace = workspace->get();
    }
    const std::string err = finish(kernels::cuda::flashAttention(dev.args, nullptr), "flashAttention");
    if (!err.empty()) return err;
    if (workspace && !workspace->guardsIntact()) return "workspace sentinel bytes overwritten";
    return compareTo(*dev.out, d.out, kNmseProduct, "out");
}

inline std::string checkProbsAttention(const AttentionCase& c) {
    const AttentionData d = attentionData(c, uint32_t(c.nHead * 104729 + c.pos0 * 17 + c.nTokens));
    AttentionDevice dev = attentionDevice(c, d);
    DevBuf probs(d.probs.size() * 4), entropy(d.entropy.size() * 4), sink(d.sink.size() * 4);
    std::string err = finish(
        kernels::cuda::attentionWithProbs(dev.args, probs.as<float>(), entropy.as<float>(), sink.as<float>(), nullptr),
        "attentionWithProbs");
    if (err.empty()) err = compareTo(*dev.out, d.out, kNmseProduct, "out");
    if (err.empty()) err = compareTo(probs, d.probs, kNmseProduct, "probs");
    if (err.empty()) err = compareTo(entropy, d.entropy, kNmseProduct, "entropy");
    if (err.empty()) err = compareTo(sink, d.sink, kNmseProduct, "sink");
    return err;
}

}  // namespace glassbox::test
