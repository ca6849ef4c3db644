// JSON and NPY writers for captures and logit lenses.
#include "engine/capture_export.h"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "engine/capture.h"
#include "engine/json.h"
#include "engine/logit_lens.h"
#include "engine/npy_writer.h"

namespace glassbox::engine {
namespace {

void num(std::string& out, double v) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    out += buf;
}

void key(std::string& out, const char* k) {
    appendJsonString(out, k);
    out += ':';
}

void shapeJson(std::string& out, const ShapeDesc& s) {
    out += "{\"dims\":[";
    for (int i = 0; i < s.rank; ++i) out += std::string(i ? "," : "") + std::to_string(s.dims[size_t(i)]);
    out += "],";
    key(out, "dtype");
    appendJsonString(out, s.tokenIds ? std::string_view("I32") : tensorTypeName(s.type));
    out += ",\"bytes\":" + std::to_string(s.bytes) + "}";
}

void statsJson(std::string& out, const ActivationStats& s) {
    out += "{\"mean\":";
    num(out, s.mean);
    out += ",\"std\":";
    num(out, s.stdev);
    out += ",\"min\":";
    num(out, s.min);
    out += ",\"max\":";
    num(out, s.max);
    out += ",\"l2\":";
    num(out, s.l2);
    out += ",\"top_dims\":[";
    for (int k = 0; k < kTopDims && s.topDim[size_t(k)] >= 0; ++k) {
        out += std::string(k ? ",[" : "[") + std::to_string(s.topDim[size_t(k)]) + ",";
        num(out, s.topValue[size_t(k)]);
        out += "]";
    }
    out += "]}";
}

void passesJson(std::string& out, const Capture& c) {
    out += "\"passes\":[";
    bool firstPass = true;
    for (const ExecutedPass& p : c.passes()) {
        out += firstPass ? "" : ",";
        firstPass = false;
        out += "{\"start\":" + std::to_string(p.startPos) + ",\"tokens\":" + std::to_string(p.nTokens) + ",\"ops\":[";
        for (size_t i = 0; i < p.ops.size(); ++i) {
            const OpRecord& op = p.ops[i];
            out += std::string(i ? ",{" : "{") + std::string("\"layer\":") + std::to_string(op.layer) + ",";
            key(out, "op");
            appendJsonString(out, opKindName(op.op));
            out += ",\"input\":";
            shapeJson(out, op.input);
            out += ",\"output\":";
            shapeJson(out, op.output);
            out += ",\"weight\":" + std::to_string(op.weight) + "}";
        }
        out += "]}";
    }
    out += "]";
}

void weightsJson(std::string& out, const Capture& c) {
    out += "\"weights\":[";
    for (size_t i = 0; i < c.weights().size(); ++i) {
        const WeightDesc& w = c.weights()[i];
        out += i ? ",{" : "{";
        key(out, "name");
        appendJsonString(out, w.name);
        out += ",";
        key(out, "type");
        appendJsonString(out, tensorTypeName(w.type));
        out += ",\"shape\":[";
        for (size_t d = 0; d < w.shape.size(); ++d) out += std::string(d ? "," : "") + std::to_string(w.shape[d]);
        out += "],\"bytes\":" + std::to_string(w.bytes) + "}";
    }
    out += "]";
}

void layersJson(std::string& out, const Capture& c) {
    const CaptureGeometry& g = c.geometry();
    const int n = c.positions();
    out += "\"layers\":[";
    for (int l = 0; l < g.nLayers; ++l) {
        out += l ? ",{" : "{";
        out += "\"layer\":" + std::to_string(l);
        if (c.options().activations) {
            for (int site = 0; site < kActivationSites; ++site) {
                out += ",";
                const char* names[] = {"attention_output", "ffn_output", "residual"};
                key(out, names[site]);
                out += "[";
                for (int p = 0; p < n; ++p) {
                    if (p) out += ",";
                    statsJson(out, c.stats(l, ActivationSite(site), p));
                }
                out += "]";
            }
        }
        if (c.options().attention) {
            out += ",\"attention_rows\":[";  // [head][pos] = [entropy, sink]
            for (int h = 0; h < g.nHead; ++h) {
                out += h ? ",[" : "[";
                for (int p = 0; p < n; ++p) {
                    const AttentionRowSummary& s = c.rowSummary(l, p, h);
                    out += p ? ",[" : "[";
                    num(out, s.entropy);
                    out += ",";
                    num(out, s.sink);
                    out += "]";
                }
                out += "]";
            }
            out += "]";
        }
        out += "}";
    }
    out += "]";
}

}  // namespace

std::string captureToJson(const Capture& c, const std::vector<std::string>& tokenTexts) {
    const CaptureGeometry& g = c.geometry();
    std::string out = "{\"format\":\"glassbox-capture\",\"version\":1,\"geometry\":{";
    out += "\"layers\":" + std::to_string(g.nLayers) + ",\"heads\":" + std::to_string(g.nHead) +
           ",\"kv_heads\":" + std::to_string(g.nHeadKv) + ",\"head_dim\":" + std::to_string(g.headDim) +
           ",\"embedding\":" + std::to_string(g.nEmbd) + ",\"ffn\":" + std::to_string(g.nFf) +
           ",\"vocab\":" + std::to_string(g.nVocab) + ",\"kv_cache\":\"" + (g.kvIsF16 ? "F16" : "F32") + "\"},";
    out += "\"positions\":" + std::to_string(c.positions()) + ",\"bytes\":" + std::to_string(c.bytes()) +
           ",\"bytes_per_position\":" + std::to_string(c.bytesPerPosition()) + ",";
    key(out, "limit");
    appendJsonString(out, c.limitMessage());
    out += ",\"tokens\":[";
    for (int i = 0; i < c.positions(); ++i) {
        out += std::string(i ? ",{" : "{") + std::string("\"id\":") + std::to_string(c.tokens()[size_t(i)]) + ",";
        key(out, "text");
        appendJsonString(out, size_t(i) < tokenTexts.size() ? tokenTexts[size_t(i)] : std::string());
        out += "}";
    }
    out += "],";
    passesJson(out, c);
    out += ",";
    weightsJson(out, c);
    out += ",";
    layersJson(out, c);
    out += "}\n";
    return out;
}

std::string logitLensToJson(const LogitLens& lens, const std::vector<std::string>& vocabTexts) {
    auto text = [&](int32_t id) { return id >= 0 && size_t(id) < vocabTexts.size() ? vocabTexts[size_t(id)] : std::string(); };
    std::string out = "{\"format\":\"glassbox-logit-lens\",\"version\":1,\"first_position\":" +
                      std::to_string(lens.firstPos) + ",\"positions\":" + std::to_string(lens.nPos) +
                      ",\"points\":" + std::to_string(lens.nPoints) + ",\"top_k\":" + std::to_string(lens.topK) +
                      ",\"target\":[";
    for (int i = 0; i < lens.nPos; ++i) out += std::string(i ? "," : "") + std::to_string(lens.target[size_t(i)]);
    out += "],\"cells\":[";  // [point][position]
    for (int p = 0; p < lens.nPoints; ++p) {
        out += p ? ",[" : "[";
        for (int i = 0; i < lens.nPos; ++i) {
            const LensCell& cell = lens.cell(p, lens.firstPos + i);
            out += i ? ",{\"top\":[" : "{\"top\":[";
            for (size_t k = 0; k < cell.topIds.size(); ++k) {
                out += std::string(k ? ",[" : "[") + std::to_string(cell.topIds[k]) + ",";
                appendJsonString(out, text(cell.topIds[k]));
                out += ",";
                num(out, cell.topProbs[k]);
                out += "]";
            }
            out += "],\"target_rank\":" + std::to_string(cell.targetRank) + ",\"target_prob\":";
            num(out, cell.targetProb);
            out += "}";
        }
        out += "]";
    }
    out += "]}\n";
    return out;
}

Status writeTextFile(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) return makeError(ErrorCode::Io, "cannot open '" + path + "' for writing");
    f.write(text.data(), std::streamsize(text.size()));
    if (!f.flush()) return makeError(ErrorCode::Io, "cannot write '" + path + "'");
    return {};
}

Status writeAttentionNpy(const Capture& c, int layer, bool probabilities, const std::string& path) {
    const int n = c.positions(), heads = c.geometry().nHead;
    std::vector<float> all;
    try {
        all.reserve(size_t(heads) * size_t(n) * size_t(n));
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::OutOfMemory, "attention export too large");
    }
    for (int h = 0; h < heads; ++h) {
        GB_ASSIGN_OR_RETURN(auto map, c.attentionMap(layer, h, probabilities));
        all.insert(all.end(), map.begin(), map.end());
    }
    return writeNpyF32(path, all, {heads, n, n});
}

Status writeResidualNpy(const Capture& c, const std::string& path) {
    if (!c.options().residuals) return makeError(ErrorCode::InvalidArgument, "the capture has no residual stream");
    const CaptureGeometry& g = c.geometry();
    const int n = c.positions();
    std::vector<float> all;
    all.reserve(size_t(g.nLayers + 1) * size_t(n) * size_t(g.nEmbd));
    for (int p = 0; p <= g.nLayers; ++p)
        for (int i = 0; i < n; ++i) {
            auto r = c.residual(p, i);
            all.insert(all.end(), r.begin(), r.end());
        }
    return writeNpyF32(path, all, {g.nLayers + 1, n, g.nEmbd});
}

}  // namespace glassbox::engine
