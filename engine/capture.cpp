// Capture storage, recording and the on-demand attention recomputation.
#include "engine/capture.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>

#include "engine/model.h"
#include "kernels/cpu/attention.h"

namespace glassbox::engine {
namespace {

void addWeight(std::vector<WeightDesc>& out, std::vector<const uint8_t*>& keys, const TensorView& t) {
    if (!t.data) return;
    WeightDesc w;
    w.name = t.name;
    w.type = t.type;
    w.shape.assign(t.ne.begin(), t.ne.begin() + std::max(1, t.nDims));
    w.bytes = t.bytes;
    out.push_back(std::move(w));
    keys.push_back(t.data);
}

}  // namespace

const char* activationSiteName(ActivationSite site) {
    switch (site) {
        case ActivationSite::AttentionOutput: return "attention output";
        case ActivationSite::FfnOutput: return "FFN output";
        case ActivationSite::Residual: return "residual stream";
    }
    return "?";
}

const char* opKindName(OpKind op) {
    static constexpr const char* kNames[] = {
        "embedding", "attn_norm", "q_proj", "k_proj", "v_proj", "qkv_bias", "rope", "kv_store", "scores",
        "softmax", "attn_values", "out_proj", "attn_residual", "ffn_norm", "gate_proj", "up_proj", "swiglu",
        "down_proj", "ffn_residual", "final_norm", "logits"};
    const size_t i = size_t(op);
    return i < std::size(kNames) ? kNames[i] : "?";
}

std::string ShapeDesc::text() const {
    std::string s = "[";
    for (int i = 0; i < rank; ++i) s += std::string(i ? ", " : "") + std::to_string(dims[size_t(i)]);
    s += "] ";
    s += tokenIds ? std::string_view("I32") : tensorTypeName(type);
    return s;
}

ShapeDesc makeShape(std::initializer_list<int64_t> dims, TensorType type) {
    ShapeDesc s;
    s.type = type;
    uint64_t elements = 1;
    for (int64_t d : dims) {
        if (s.rank < 4) s.dims[size_t(s.rank++)] = d;
        elements *= uint64_t(std::max<int64_t>(d, 0));
    }
    const int64_t inner = s.rank ? s.dims[size_t(s.rank - 1)] : 1;
    const uint64_t rows = inner > 0 ? elements / uint64_t(inner) : 0;
    s.bytes = rows * rowBytes(type, uint64_t(std::max<int64_t>(inner, 0))).value_or(0);
    return s;
}

ShapeDesc makeTokenIdsShape(int64_t n) {
    ShapeDesc s;
    s.rank = 1;
    s.dims[0] = n;
    s.tokenIds = true;
    s.bytes = uint64_t(std::max<int64_t>(n, 0)) * 4;
    return s;
}

ActivationStats computeActivationStats(const float* x, int n) {
    ActivationStats st;
    if (n <= 0) return st;
    double sum = 0, sq = 0;
    float lo = x[0], hi = x[0];
    for (int i = 0; i < n; ++i) {
        sum += x[i];
        sq += double(x[i]) * x[i];
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
    }
    const double mean = sum / n;
    st.mean = float(mean);
    st.stdev = float(std::sqrt(std::max(0.0, sq / n - mean * mean)));
    st.min = lo;
    st.max = hi;
    st.l2 = float(std::sqrt(sq));
    // Top dims by |value|: a small insertion list, largest first.
    const int k = std::min(n, kTopDims);
    int have = 0;
    for (int i = 0; i < n; ++i) {
        const float a = std::fabs(x[i]);
        if (have == k && a <= std::fabs(st.topValue[size_t(k - 1)])) continue;
        int j = have < k ? have++ : k - 1;
        while (j > 0 && std::fabs(st.topValue[size_t(j - 1)]) < a) {
            st.topValue[size_t(j)] = st.topValue[size_t(j - 1)];
            st.topDim[size_t(j)] = st.topDim[size_t(j - 1)];
            --j;
        }
        st.topValue[size_t(j)] = x[i];
        st.topDim[size_t(j)] = i;
    }
    for (int j = have; j < kTopDims; ++j) st.topDim[size_t(j)] = -1;
    return st;
}

Capture::Capture(const Model& model, const CaptureOptions& options, KvCacheType kvType) : m_options(options) {
    const ModelConfig& c = model.config();
    m_geo.nLayers = c.nLayers;
    m_geo.nHead = c.nHead;
    m_geo.nHeadKv = c.nHeadKv;
    m_geo.headDim = c.headDim;
    m_geo.nEmbd = c.nEmbd;
    m_geo.nFf = c.nFf;
    m_geo.nVocab = c.nVocab;
    m_geo.kvIsF16 = kvType == KvCacheType::F16;
    addWeight(m_weights, m_weightKeys, model.tokenEmbedding());
    for (const LayerWeights& l : model.layers()) {
        for (const TensorView* t : {&l.attnNorm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffnNorm, &l.wGate, &l.wUp, &l.wDown})
            addWeight(m_weights, m_weightKeys, *t);
        for (const auto* b : {&l.bq, &l.bk, &l.bv})
            if (*b) addWeight(m_weights, m_weightKeys, **b);
    }
    addWeight(m_weights, m_weightKeys, model.outputNorm());
    if (model.output().data != model.tokenEmbedding().data) addWeight(m_weights, m_weightKeys, model.output());
    const size_t layers = size_t(c.nLayers);
    if (options.attention) {
        m_q.resize(layers);
        m_k.resize(layers);
        m_rows.resize(layers);
    }
    if (options.residuals) m_residual.resize(layers + 1);
    if (options.activations) m_stats.resize(layers * kActivationSites);
}

uint64_t Capture::bytesPerPosition() const {
    const uint64_t L = uint64_t(m_geo.nLayers);
    uint64_t b = sizeof(int32_t);
    if (m_options.attention)
        b += L * (uint64_t(m_geo.qDim()) * 4 + uint64_t(m_geo.kvDim()) * (m_geo.kvIsF16 ? 2 : 4) +
                  uint64_t(m_geo.nHead) * sizeof(AttentionRowSummary));
    if (m_options.residuals) b += (L + 1) * uint64_t(m_geo.nEmbd) * 4;
    if (m_options.activations) b += L * kActivationSites * sizeof(ActivationStats);
    return b;
}

bool Capture::reserve(int positions) {
    const size_t p = size_t(positions);
    const size_t kvRow = size_t(m_geo.kvDim()) * (m_geo.kvIsF16 ? 2 : 4);
    try {
        m_tokens.resize(p);
        for (auto& v : m_q) v.resize(p * size_t(m_geo.qDim()));
        for (auto& v : m_k) v.resize(p * kvRow);
        for (auto& v : m_rows) v.resize(p * size_t(m_geo.nHead));
        for (auto& v : m_residual) v.resize(p * size_t(m_geo.nEmbd));
        for (auto& v : m_stats) v.resize(p);
    } catch (const std::bad_alloc&) {
        return false;
    }
    return true;
}

bool Capture::beginPass(int startPos, std::span<const int32_t> tokens) {
    m_recording = false;
    if (startPos > m_positions) {
        if (m_limit.empty()) m_limit = "positions " + std::to_string(m_positions) + "–" + std::to_string(startPos - 1) +
                  " ran before the capture was attached; run the prompt again to record them";
        return false;
    }
    truncate(startPos);
    const int end = startPos + int(tokens.size());
    if (bytesPerPosition() * uint64_t(end) > m_options.maxBytes) {
        m_limit = "recording stopped at position " + std::to_string(startPos) + ": the capture would exceed " +
                  std::to_string(m_options.maxBytes >> 20) + " MiB";
        return false;
    }
    if (!reserve(end)) {
        reserve(startPos);
        m_limit = "recording stopped at position " + std::to_string(startPos) + ": out of memory";
        return false;
    }
    std::copy(tokens.begin(), tokens.end(), m_tokens.begin() + startPos);
    m_passEnd = end;
    m_recording = true;
    if (m_options.shapes) m_passes.push_back(ExecutedPass{startPos, int(tokens.size()), {}});
    return true;
}

void Capture::recordOp(int layer, OpKind op, const ShapeDesc& in, const ShapeDesc& out, const TensorView* weight) {
    if (!m_recording || !m_options.shapes || m_passes.empty()) return;
    OpRecord r{layer, op, in, out, -1};
    if (weight) {
        const auto it = std::find(m_weightKeys.begin(), m_weightKeys.end(), weight->data);
        if (it != m_weightKeys.end()) r.weight = int(it - m_weightKeys.begin());
    }
    m_passes.back().ops.push_back(r);
}

void Capture::recordQueryKey(int layer, int pos0, int n, const float* q, const uint8_t* kLayerBase, size_t kvRowBytes) {
    if (!m_recording || !m_options.attention) return;
    const size_t qDim = size_t(m_geo.qDim());
    std::copy(q, q + size_t(n) * qDim, m_q[size_t(layer)].begin() + ptrdiff_t(size_t(pos0) * qDim));
    const uint8_t* src = kLayerBase + size_t(pos0) * kvRowBytes;
    std::copy(src, src + size_t(n) * kvRowBytes, m_k[size_t(layer)].begin() + ptrdiff_t(size_t(pos0) * kvRowBytes));
}

void Capture::recordRowSummary(int layer, int pos, int head, const AttentionRowSummary& s) {
    if (!m_recording || !m_options.attention) return;
    m_rows[size_t(layer)][size_t(pos) * size_t(m_geo.nHead) + size_t(head)] = s;
}

void Capture::recordActivations(int layer, ActivationSite site, int pos0, int n, const float* rows, int dim) {
    if (!m_recording || !m_options.activations) return;
    auto& dst = m_stats[size_t(layer) * kActivationSites + size_t(site)];
    for (int i = 0; i < n; ++i) dst[size_t(pos0 + i)] = computeActivationStats(rows + size_t(i) * size_t(dim), dim);
}

void Capture::recordResidual(int point, int pos0, int n, const float* rows) {
    if (!m_recording || !m_options.residuals) return;
    const size_t d = size_t(m_geo.nEmbd);
    std::copy(rows, rows + size_t(n) * d, m_residual[size_t(point)].begin() + ptrdiff_t(size_t(pos0) * d));
}

void Capture::endPass() {
    if (m_recording) m_positions = m_passEnd;
    m_recording = false;
}

void Capture::truncate(int n) {
    n = std::clamp(n, 0, m_positions);
    m_positions = n;
    m_passEnd = n;
    reserve(n);  // shrinking never throws
    std::erase_if(m_passes, [n](const ExecutedPass& p) { return p.startPos >= n; });
    if (m_limit.find("ran before") != std::string::npos) m_limit.clear();
}

Status Capture::attentionRow(int layer, int head, int queryPos, bool probabilities, std::vector<float>& out) const {
    if (!m_options.attention) return makeError(ErrorCode::InvalidArgument, "attention was not recorded", "attention");
    if (layer < 0 || layer >= m_geo.nLayers) return makeError(ErrorCode::InvalidArgument, "layer out of range", "layer");
    if (head < 0 || head >= m_geo.nHead) return makeError(ErrorCode::InvalidArgument, "head out of range", "head");
    if (queryPos < 0 || queryPos >= m_positions)
        return makeError(ErrorCode::InvalidArgument, "position out of range", "position");
    const size_t elem = m_geo.kvIsF16 ? 2 : 4;
    const size_t kvRow = size_t(m_geo.kvDim()) * elem;
    out.resize(size_t(queryPos) + 1);
    kernels::AttentionRowArgs a;
    a.q = &m_q[size_t(layer)][size_t(queryPos) * size_t(m_geo.qDim()) + size_t(head) * size_t(m_geo.headDim)];
    a.k = m_k[size_t(layer)].data() + size_t(m_geo.kvHeadOf(head)) * size_t(m_geo.headDim) * elem;
    a.kvIsF16 = m_geo.kvIsF16;
    a.kvRowStride = int64_t(kvRow / elem);
    a.headDim = m_geo.headDim;
    a.nKeys = queryPos + 1;
    a.scale = 1.0f / std::sqrt(float(m_geo.headDim));
    a.singleToken = std::any_of(m_passes.begin(), m_passes.end(),
                                [queryPos](const ExecutedPass& p) { return p.startPos == queryPos && p.nTokens == 1; });
    a.scores = out.data();
    kernels::attentionScores(a, probabilities);
    return {};
}

Result<std::vector<float>> Capture::attentionMap(int layer, int head, bool probabilities) const {
    const size_t n = size_t(m_positions);
    std::vector<float> map;
    try {
        map.assign(n * n, probabilities ? 0.0f : -std::numeric_limits<float>::infinity());
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::OutOfMemory, "cannot allocate a " + std::to_string(n) + "² attention map");
    }
    std::vector<float> row;
    for (size_t i = 0; i < n; ++i) {
        GB_TRY(attentionRow(layer, head, int(i), probabilities, row));
        std::copy(row.begin(), row.end(), map.begin() + ptrdiff_t(i * n));
    }
    return map;
}

const AttentionRowSummary& Capture::rowSummary(int layer, int pos, int head) const {
    return m_rows[size_t(layer)][size_t(pos) * size_t(m_geo.nHead) + size_t(head)];
}

std::span<const float> Capture::query(int layer, int pos) const {
    const size_t d = size_t(m_geo.qDim());
    return {m_q[size_t(layer)].data() + size_t(pos) * d, d};
}

std::vector<float> Capture::key(int layer, int pos) const {
    const size_t d = size_t(m_geo.kvDim());
    std::vector<float> out(d);
    if (m_geo.kvIsF16) {
        const auto* src = reinterpret_cast<const uint16_t*>(m_k[size_t(layer)].data()) + size_t(pos) * d;
        for (size_t i = 0; i < d; ++i) out[i] = fp16ToFloat(src[i]);
    } else {
        const auto* src = reinterpret_cast<const float*>(m_k[size_t(layer)].data()) + size_t(pos) * d;
        std::copy(src, src + d, out.begin());
    }
    return out;
}

std::span<const float> Capture::residual(int point, int pos) const {
    const size_t d = size_t(m_geo.nEmbd);
    return {m_residual[size_t(point)].data() + size_t(pos) * d, d};
}

const ActivationStats& Capture::stats(int layer, ActivationSite site, int pos) const {
    return m_stats[size_t(layer) * kActivationSites + size_t(site)][size_t(pos)];
}

}  // namespace glassbox::engine
