// AttentionMaps: worker jobs, the shared cache and its eviction.
#include "ui/attention_maps.h"

#include <QMetaObject>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

namespace glassbox::ui {
namespace {

constexpr int kRowsBetweenChecks = 32;
constexpr int kMinRowsToSplit = 128;

engine::Error badRequest(const char* what) {
    return engine::makeError(engine::ErrorCode::InvalidArgument, what, "attention");
}

// Counts a running request for as long as it lives.
class RunningGuard {
public:
    explicit RunningGuard(std::atomic<int>& count) : m_count(count) { ++m_count; }
    ~RunningGuard() { --m_count; }
    RunningGuard(const RunningGuard&) = delete;
    RunningGuard& operator=(const RunningGuard&) = delete;

private:
    std::atomic<int>& m_count;
};

}  // namespace

AttentionMaps::AttentionMaps(QObject* parent) : QObject(parent) {
    // Requests get their own threads, so a prefetch never delays the map
    // the user asked for; two of them, so a stale request still finishing
    // does not hold up the next one.
    m_pool.setMaxThreadCount(2);
    m_prefetchPool.setMaxThreadCount(1);
}

AttentionMaps::~AttentionMaps() {
    ++m_generation;
    ++m_prefetchGeneration;
    m_pool.waitForDone();
    m_prefetchPool.waitForDone();
}

void AttentionMaps::setCapture(std::shared_ptr<const engine::Capture> capture) {
    ++m_generation;
    ++m_prefetchGeneration;
    ++m_epoch;
    m_capture = std::move(capture);
    std::lock_guard lock(m_mutex);
    m_cache.clear();
    m_bytes = 0;
}

void AttentionMaps::setBudget(uint64_t bytes) {
    std::lock_guard lock(m_mutex);
    m_budget = bytes;
}

uint64_t AttentionMaps::cachedBytes() const {
    std::lock_guard lock(m_mutex);
    return m_bytes;
}

int AttentionMaps::cachedCount() const {
    std::lock_guard lock(m_mutex);
    return int(m_cache.size());
}

viz::AttentionValues AttentionMaps::cached(const AttentionKey& key) const {
    std::lock_guard lock(m_mutex);
    const auto it = m_cache.find(key);
    return it == m_cache.end() ? nullptr : it->second.values;
}

void AttentionMaps::store(uint64_t epoch, const AttentionKey& key, const viz::AttentionValues& values) {
    std::lock_guard lock(m_mutex);
    if (epoch != m_epoch.load() || m_cache.count(key)) return;
    const uint64_t bytes = values->size() * sizeof(float);
    m_cache[key] = {values, ++m_tick};
    m_bytes += bytes;
    while (m_bytes > m_budget && m_cache.size() > 1) {
        auto oldest = m_cache.end();
        for (auto it = m_cache.begin(); it != m_cache.end(); ++it) {
            if (it->first == key) continue;
            if (oldest == m_cache.end() || it->second.lastUse < oldest->second.lastUse) oldest = it;
        }
        m_bytes -= oldest->second.values->size() * sizeof(float);
        m_cache.erase(oldest);
    }
}

engine::Result<std::vector<float>> AttentionMaps::computeHead(const engine::Capture& capture, const AttentionKey& key,
                                                              const Effort& effort) const {
    // Row by row with the capture's own attentionRow (what attentionMap
    // does), so the work can be split, paused and abandoned between rows.
    const int n = capture.positions();
    std::vector<float> map;
    try {
        map.assign(size_t(n) * size_t(n), key.probabilities ? 0.0f : -std::numeric_limits<float>::infinity());
    } catch (const std::bad_alloc&) {
        return engine::makeError(engine::ErrorCode::OutOfMemory, "cannot allocate the attention map", "attention");
    }
    auto rows = [&](int first, int last, engine::Status& status) {
        std::vector<float> row;
        for (int r = first; r < last; ++r) {
            if ((r - first) % kRowsBetweenChecks == 0) {
                while (effort.yields && m_requestsRunning.load() > 0 && !(effort.stale && effort.stale()))
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                if (effort.stale && effort.stale()) {
                    status = engine::makeError(engine::ErrorCode::Cancelled, "superseded", "attention");
                    return;
                }
            }
            status = capture.attentionRow(key.layer, key.head, r, key.probabilities, row);
            if (!status) return;
            std::copy(row.begin(), row.end(), map.begin() + ptrdiff_t(size_t(r) * size_t(n)));
        }
    };
    engine::Status first, second;
    if (effort.threads > 1 && n >= kMinRowsToSplit) {
        const int split = int(double(n) / std::sqrt(2.0));  // rows [0, split) hold half the triangle
        std::thread helper(rows, split, n, std::ref(second));
        rows(0, split, first);
        helper.join();
    } else {
        rows(0, n, first);
    }
    if (!first) return first.error();
    if (!second) return second.error();
    return map;
}

engine::Result<viz::AttentionValues> AttentionMaps::obtain(const CapturePtr& capture, uint64_t epoch,
                                                           const AttentionKey& key, const Effort& effort) {
    if (!capture) return badRequest("no capture");
    {
        std::lock_guard lock(m_mutex);
        auto it = m_cache.find(key);
        if (it != m_cache.end() && epoch == m_epoch.load()) {
            it->second.lastUse = ++m_tick;
            return it->second.values;
        }
    }
    if (key.head < 0) return combineHeads(capture, epoch, key, effort);
    const engine::CaptureGeometry& g = capture->geometry();
    if (key.layer < 0 || key.layer >= g.nLayers) return badRequest("layer out of range");
    if (key.head >= g.nHead) return badRequest("head out of range");
    GB_ASSIGN_OR_RETURN(std::vector<float> map, computeHead(*capture, key, effort));
    auto values = std::make_shared<const std::vector<float>>(std::move(map));
    store(epoch, key, values);
    return values;
}

engine::Result<viz::AttentionValues> AttentionMaps::combineHeads(const CapturePtr& capture, uint64_t epoch,
                                                                 const AttentionKey& key, const Effort& effort) {
    const int heads = capture->geometry().nHead;
    if (key.head != kMeanOverHeads && key.head != kMaxOverHeads) return badRequest("head out of range");
    if (heads <= 0) return badRequest("the model has no attention heads");
    std::vector<float> out;
    for (int h = 0; h < heads; ++h) {
        GB_ASSIGN_OR_RETURN(viz::AttentionValues one, obtain(capture, epoch, {key.layer, h, key.probabilities}, effort));
        if (out.empty()) {
            out = *one;
            continue;
        }
        if (key.head == kMeanOverHeads)
            for (size_t i = 0; i < out.size(); ++i) out[i] += (*one)[i];
        else
            for (size_t i = 0; i < out.size(); ++i) out[i] = std::max(out[i], (*one)[i]);
    }
    if (key.head == kMeanOverHeads) {
        const float inv = 1.0f / float(heads);
        for (float& v : out) v *= inv;
    }
    auto values = std::make_shared<const std::vector<float>>(std::move(out));
    store(epoch, key, values);
    return values;
}

engine::Result<viz::AttentionValues> AttentionMaps::compute(const AttentionKey& key) {
    return obtain(m_capture, m_epoch.load(), key, {2, false, {}});
}

uint64_t AttentionMaps::request(const AttentionKey& key, bool log, bool dark) {
    const uint64_t gen = ++m_generation;
    CapturePtr capture = m_capture;
    const uint64_t epoch = m_epoch.load();
    m_pool.start(
        [this, capture, epoch, gen, key, log, dark] {
            if (gen != m_generation.load()) return;
            const RunningGuard running(m_requestsRunning);
            const Effort effort{2, false, [this, gen] { return gen != m_generation.load(); }};
            auto values = obtain(capture, epoch, key, effort);
            if (gen != m_generation.load()) return;
            if (!values) {
                const QString message = QString::fromStdString(values.error().toString());
                QMetaObject::invokeMethod(this, [this, message] { emit failed(message); },
                                          Qt::QueuedConnection);
                return;
            }
            viz::AttentionFrame frame =
                viz::renderAttentionFrame(*values, capture->positions(), key.probabilities, log, dark);
            QMetaObject::invokeMethod(
                this,
                [this, key, frame = std::move(frame), gen] {
                    if (gen == m_generation.load()) emit frameReady(key, frame, gen);
                },
                Qt::QueuedConnection);
        });
    return gen;
}

void AttentionMaps::prefetchLayer(int layer, bool probabilities, bool log, bool dark, int thumbSide,
                                  std::vector<AttentionKey> warm) {
    const uint64_t gen = ++m_prefetchGeneration;
    if (!m_capture) return;
    CapturePtr capture = m_capture;
    const uint64_t epoch = m_epoch.load();
    m_prefetchPool.start(
        [this, capture, epoch, gen, layer, probabilities, log, dark, thumbSide, warm = std::move(warm)] {
            runPrefetch(capture, epoch, gen, layer, probabilities, log, dark, thumbSide, warm);
        });
}

void AttentionMaps::runPrefetch(CapturePtr capture, uint64_t epoch, uint64_t prefetchGen, int layer,
                                bool probabilities, bool log, bool dark, int thumbSide,
                                const std::vector<AttentionKey>& warm) {
    const int n = capture->positions();
    const Effort effort{1, true, [this, prefetchGen] { return prefetchGen != m_prefetchGeneration.load(); }};
    for (int h = 0; h < capture->geometry().nHead; ++h) {
        if (prefetchGen != m_prefetchGeneration.load()) return;
        auto values = obtain(capture, epoch, {layer, h, probabilities}, effort);
        if (!values) return;
        const viz::AttentionScale scale = viz::attentionScaleFor(**values, probabilities, log, dark);
        QImage thumb = viz::renderAttentionThumbnail(**values, n, scale, thumbSide);
        QMetaObject::invokeMethod(
            this,
            [this, prefetchGen, layer, h, thumb = std::move(thumb)] {
                if (prefetchGen == m_prefetchGeneration.load()) emit thumbnailReady(layer, h, thumb);
            },
            Qt::QueuedConnection);
    }
    for (const AttentionKey& key : warm) {
        if (prefetchGen != m_prefetchGeneration.load()) return;
        if (key.layer < 0 || key.layer >= capture->geometry().nLayers) continue;
        (void)obtain(capture, epoch, key, effort);
    }
}

}  // namespace glassbox::ui
