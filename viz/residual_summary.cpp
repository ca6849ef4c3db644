// ResidualSummary: norms per point and position, and outlier dimensions.
#include "viz/residual_summary.h"

#include <QStringList>
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace glassbox::viz {
namespace {

using engine::ActivationSite;
using engine::ActivationStats;

float l2(std::span<const float> v) {
    double sq = 0;
    for (float x : v) sq += double(x) * x;
    return float(std::sqrt(sq));
}

struct DimTally {
    int count = 0;
    float maxTop = 0;  // largest |value| seen while in the top dims, and where
    int maxLayer = -1, maxPos = -1;
    std::set<int> layers;
};

// Counts every dim in each (layer, token)'s top dims.
std::map<int, DimTally> tallyTopDims(const engine::Capture& cap, std::stop_token stop, int& samples) {
    std::map<int, DimTally> tally;
    const int layers = cap.geometry().nLayers, n = cap.positions();
    const bool haveStats = cap.options().activations;
    for (int l = 0; l < layers && !stop.stop_requested(); ++l) {
        for (int pos = 0; pos < n; ++pos) {
            ActivationStats computed;
            if (!haveStats) {
                const auto r = cap.residual(l + 1, pos);
                computed = engine::computeActivationStats(r.data(), int(r.size()));
            }
            const ActivationStats& s = haveStats ? cap.stats(l, ActivationSite::Residual, pos) : computed;
            ++samples;
            for (int k = 0; k < engine::kTopDims; ++k) {
                const int d = s.topDim[size_t(k)];
                if (d < 0) continue;
                DimTally& t = tally[d];
                ++t.count;
                if (std::fabs(s.topValue[size_t(k)]) > t.maxTop || t.maxLayer < 0) {
                    t.maxTop = std::fabs(s.topValue[size_t(k)]);
                    t.maxLayer = l;
                    t.maxPos = pos;
                }
                t.layers.insert(l);
            }
        }
    }
    return tally;
}

// The dim's largest |value| after any layer, read from the stream itself.
void findMax(const engine::Capture& cap, OutlierDim& o) {
    const int layers = cap.geometry().nLayers, n = cap.positions();
    for (int l = 0; l < layers; ++l) {
        for (int pos = 0; pos < n; ++pos) {
            const float v = std::fabs(cap.residual(l + 1, pos)[size_t(o.dim)]);
            if (v > o.maxAbs || o.maxLayer < 0) {
                o.maxAbs = v;
                o.maxLayer = l;
                o.maxPos = pos;
            }
        }
    }
}

}  // namespace

ResidualSummary summariseResidual(const engine::Capture& cap, int maxOutliers, std::stop_token stop) {
    ResidualSummary s;
    const engine::CaptureOptions& opt = cap.options();
    s.nPoints = cap.geometry().nLayers + 1;
    s.nPositions = cap.positions();
    s.norms.assign(size_t(s.nPoints) * size_t(s.nPositions), std::numeric_limits<float>::quiet_NaN());
    for (int point = 0; point < s.nPoints; ++point) {
        if (stop.stop_requested()) return {};
        for (int pos = 0; pos < s.nPositions; ++pos) {
            float& out = s.norms[size_t(point) * size_t(s.nPositions) + size_t(pos)];
            if (point > 0 && opt.activations) out = cap.stats(point - 1, ActivationSite::Residual, pos).l2;
            else if (opt.residuals) out = l2(cap.residual(point, pos));
        }
    }
    if (!opt.activations && !opt.residuals) return s;
    const std::map<int, DimTally> tally = tallyTopDims(cap, stop, s.samples);
    if (stop.stop_requested()) return {};
    for (const auto& [dim, t] : tally) {
        OutlierDim o;
        o.dim = dim;
        o.count = t.count;
        o.maxAbs = t.maxTop;
        o.maxLayer = t.maxLayer;
        o.maxPos = t.maxPos;
        o.layers.assign(t.layers.begin(), t.layers.end());
        s.outliers.push_back(std::move(o));
    }
    std::sort(s.outliers.begin(), s.outliers.end(), [](const OutlierDim& a, const OutlierDim& b) {
        return a.count != b.count ? a.count > b.count : a.dim < b.dim;
    });
    if (int(s.outliers.size()) > maxOutliers) s.outliers.resize(size_t(std::max(0, maxOutliers)));
    if (opt.residuals)
        for (OutlierDim& o : s.outliers) {
            o.maxAbs = 0;
            o.maxLayer = -1;
            findMax(cap, o);
        }
    return s;
}

QString rangesText(const std::vector<int>& values) {
    QStringList parts;
    for (size_t i = 0; i < values.size();) {
        size_t j = i;
        while (j + 1 < values.size() && values[j + 1] == values[j] + 1) ++j;
        parts << (j == i ? QString::number(values[i])
                         : QStringLiteral("%1–%2").arg(values[i]).arg(values[j]));
        i = j + 1;
    }
    return parts.join(QStringLiteral(", "));
}

}  // namespace glassbox::viz
