// Attention matrices to images: a 1,024-entry colour table and a fast,
// branch-light loop per row, so a 1,024 × 1,024 map renders in a few
// milliseconds on one core.
#include "viz/attention_render.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "viz/probability_palette.h"

namespace glassbox::viz {
namespace {

constexpr int kLutSize = 1024;

using Lut = std::array<QRgb, kLutSize>;

Lut makeLut(bool dark) {
    Lut lut{};
    for (int i = 0; i < kLutSize; ++i) lut[size_t(i)] = ProbabilityPalette::forWeight(double(i) / (kLutSize - 1), dark).rgb();
    return lut;
}

const Lut& lutFor(bool dark) {
    static const Lut light = makeLut(false);
    static const Lut darkLut = makeLut(true);
    return dark ? darkLut : light;
}

// log2(x) for x > 0, within about 0.005: exponent plus a quadratic in the mantissa.
inline float fastLog2(float x) {
    uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    const float e = float(int((bits >> 23) & 0xff) - 127);
    bits = (bits & 0x007fffffu) | 0x3f800000u;
    float m;
    std::memcpy(&m, &bits, sizeof m);
    return e + (-0.34484843f * m + 2.02466578f) * m - 0.67487759f;
}

// Maps values to table indices: linear over [lo, hi] or log10 over [floor, 1].
struct Indexer {
    bool log = false;
    float lo = 0, scale = 1;

    explicit Indexer(const AttentionScale& s) : log(s.probabilities && s.log) {
        if (log) {
            lo = std::log2(AttentionScale::kLogFloor);
            scale = float(kLutSize - 1) / -lo;
        } else {
            lo = s.lo;
            scale = s.hi > s.lo ? float(kLutSize - 1) / (s.hi - s.lo) : 0.0f;
        }
    }
    int operator()(float v) const {
        const float x = log ? (v > 0.0f ? fastLog2(v) : lo) : v;
        const float at = (x - lo) * scale + 0.5f;
        return at <= 0.0f ? 0 : at >= float(kLutSize - 1) ? kLutSize - 1 : int(at);
    }
};

void renderRows(const float* values, int n, const AttentionScale& scale, QImage& image) {
    const Lut& lut = lutFor(scale.dark);
    const QRgb mask = attentionMaskColor(scale.dark);
    const Indexer index(scale);
    for (int r = 0; r < n; ++r) {
        const float* row = values + size_t(r) * size_t(n);
        auto* out = reinterpret_cast<QRgb*>(image.scanLine(r));
        for (int c = 0; c <= r; ++c) out[c] = lut[size_t(index(row[c]))];
        for (int c = r + 1; c < n; ++c) out[c] = mask;
    }
}

QString number(float v) { return QString::number(double(v), 'g', 3); }

}  // namespace

double AttentionScale::position(float v) const {
    if (std::isinf(v) && v < 0) return -1.0;
    if (probabilities && log) {
        if (v <= kLogFloor) return 0.0;
        return std::clamp((std::log10(double(v)) - std::log10(double(kLogFloor))) / -std::log10(double(kLogFloor)),
                          0.0, 1.0);
    }
    return hi > lo ? std::clamp(double(v - lo) / double(hi - lo), 0.0, 1.0) : 0.0;
}

QString AttentionScale::lowText() const {
    if (probabilities && log) return QStringLiteral("≤1e-4");
    return number(lo);
}

QString AttentionScale::highText() const { return number(hi); }

QRgb attentionMaskColor(bool dark) { return dark ? qRgb(0x2a, 0x2b, 0x30) : qRgb(0xe6, 0xe6, 0xe9); }

AttentionScale attentionScaleFor(const std::vector<float>& values, bool probabilities, bool log, bool dark) {
    AttentionScale s;
    s.probabilities = probabilities;
    s.log = probabilities && log;
    s.dark = dark;
    if (probabilities) return s;
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    for (float v : values) {
        if (!std::isfinite(v)) continue;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    if (lo > hi) lo = hi = 0.0f;
    s.lo = lo;
    s.hi = hi;
    return s;
}

AttentionFrame renderAttentionFrame(AttentionValues values, int n, bool probabilities, bool log, bool dark) {
    AttentionFrame f;
    if (!values || n <= 0 || values->size() != size_t(n) * size_t(n)) return f;
    f.values = std::move(values);
    f.n = n;
    f.scale = attentionScaleFor(*f.values, probabilities, log, dark);
    f.image = QImage(n, n, QImage::Format_RGB32);
    renderRows(f.values->data(), n, f.scale, f.image);
    return f;
}

AttentionFrame rerenderAttentionFrame(const AttentionFrame& frame, bool log, bool dark) {
    if (frame.isNull()) return frame;
    AttentionFrame f = frame;
    f.scale.log = f.scale.probabilities && log;
    f.scale.dark = dark;
    f.image = QImage(f.n, f.n, QImage::Format_RGB32);
    renderRows(f.values->data(), f.n, f.scale, f.image);
    return f;
}

QImage renderAttentionThumbnail(const std::vector<float>& values, int n, const AttentionScale& scale, int side) {
    if (n <= 0 || side <= 0 || values.size() != size_t(n) * size_t(n)) return {};
    side = std::min(side, n);
    QImage image(side, side, QImage::Format_RGB32);
    const Lut& lut = lutFor(scale.dark);
    const QRgb mask = attentionMaskColor(scale.dark);
    const Indexer index(scale);
    for (int y = 0; y < side; ++y) {
        const int r0 = int(int64_t(y) * n / side), r1 = std::max(r0 + 1, int(int64_t(y + 1) * n / side));
        auto* out = reinterpret_cast<QRgb*>(image.scanLine(y));
        for (int x = 0; x < side; ++x) {
            const int c0 = int(int64_t(x) * n / side), c1 = std::max(c0 + 1, int(int64_t(x + 1) * n / side));
            float best = -std::numeric_limits<float>::infinity();
            bool any = false;
            for (int r = r0; r < r1; ++r) {
                const float* row = values.data() + size_t(r) * size_t(n);
                for (int c = c0; c < std::min(c1, r + 1); ++c) {
                    best = std::max(best, row[c]);
                    any = true;
                }
            }
            out[x] = any ? lut[size_t(index(best))] : mask;
        }
    }
    return image;
}

}  // namespace glassbox::viz
