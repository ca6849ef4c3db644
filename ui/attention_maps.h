// AttentionMaps: the attention matrices of one capture, computed off the
// UI thread and kept in a byte-bounded cache. A request computes (or finds)
// one map — a head, or the mean or max over a layer's heads — renders its
// image in the same worker and hands the finished frame back through a
// queued call; a newer request makes older ones stale, and stale results
// are dropped (generation counter). A prefetch walks every head of a layer
// in the background (thumbnails for the head grid, and a warm cache so that
// switching heads afterwards costs only a repaint). A requested map is
// computed on two threads (rows split into halves of equal work) while any
// prefetch pauses, so the map on screen gets the whole machine. The capture
// is an immutable shared value, so workers read it without locks.
#pragma once

#include <QImage>
#include <QObject>
#include <QThreadPool>
#include <atomic>
#include <compare>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/capture.h"
#include "viz/attention_render.h"

namespace glassbox::ui {

// Pseudo-heads: the element-wise mean and max over a layer's heads.
inline constexpr int kMeanOverHeads = -1;
inline constexpr int kMaxOverHeads = -2;

struct AttentionKey {
    int layer = 0;
    int head = 0;              // >= 0, or kMeanOverHeads / kMaxOverHeads
    bool probabilities = true; // false: scores before the softmax
    auto operator<=>(const AttentionKey&) const = default;
};

class AttentionMaps : public QObject {
    Q_OBJECT
public:
    explicit AttentionMaps(QObject* parent = nullptr);
    ~AttentionMaps() override;  // waits for running workers

    // A new capture (null clears); makes every pending request stale.
    void setCapture(std::shared_ptr<const engine::Capture> capture);
    const std::shared_ptr<const engine::Capture>& capture() const { return m_capture; }
    int positions() const { return m_capture ? m_capture->positions() : 0; }

    // Cache budget in bytes (default 512 MiB); the newest map always stays.
    void setBudget(uint64_t bytes);
    uint64_t cachedBytes() const;
    int cachedCount() const;
    // The cached map, or null.
    viz::AttentionValues cached(const AttentionKey& key) const;

    // Fetch or compute `key`, render it, and emit frameReady on this thread
    // unless a newer request came first. Returns the request's generation.
    uint64_t request(const AttentionKey& key, bool log, bool dark);
    uint64_t generation() const { return m_generation.load(); }
    // In the background: every head of `layer` (thumbnailReady per head,
    // `thumbSide` pixels), then the keys in `warm`. A newer prefetch or
    // capture stops an older one between maps.
    void prefetchLayer(int layer, bool probabilities, bool log, bool dark, int thumbSide,
                       std::vector<AttentionKey> warm = {});

    // Fetch or compute on the calling thread (exports, tests). Errors:
    // InvalidArgument (no capture, layer or head out of range, attention not
    // recorded), OutOfMemory.
    engine::Result<viz::AttentionValues> compute(const AttentionKey& key);

signals:
    void frameReady(const glassbox::ui::AttentionKey& key, const glassbox::viz::AttentionFrame& frame,
                    uint64_t generation);
    void thumbnailReady(int layer, int head, const QImage& image);
    void failed(const QString& message);

private:
    struct Entry {
        viz::AttentionValues values;
        uint64_t lastUse = 0;
    };
    using CapturePtr = std::shared_ptr<const engine::Capture>;
    // How a worker computes: its threads, whether it pauses for requests,
    // and when to give up (a newer request or prefetch).
    struct Effort {
        int threads = 1;
        bool yields = false;
        std::function<bool()> stale;
    };

    engine::Result<viz::AttentionValues> obtain(const CapturePtr& capture, uint64_t epoch, const AttentionKey& key,
                                                const Effort& effort);
    engine::Result<viz::AttentionValues> combineHeads(const CapturePtr& capture, uint64_t epoch,
                                                      const AttentionKey& key, const Effort& effort);
    engine::Result<std::vector<float>> computeHead(const engine::Capture& capture, const AttentionKey& key,
                                                   const Effort& effort) const;
    void store(uint64_t epoch, const AttentionKey& key, const viz::AttentionValues& values);
    void runPrefetch(CapturePtr capture, uint64_t epoch, uint64_t prefetchGen, int layer, bool probabilities,
                     bool log, bool dark, int thumbSide, const std::vector<AttentionKey>& warm);

    CapturePtr m_capture;
    QThreadPool m_pool;          // requests
    QThreadPool m_prefetchPool;  // prefetches, one at a time
    std::atomic<uint64_t> m_generation{0};
    std::atomic<uint64_t> m_prefetchGeneration{0};
    std::atomic<uint64_t> m_epoch{0};  // bumped per capture; older workers may not fill the cache
    std::atomic<int> m_requestsRunning{0};  // prefetches pause while > 0

    mutable std::mutex m_mutex;  // guards everything below
    std::map<AttentionKey, Entry> m_cache;
    uint64_t m_bytes = 0;
    uint64_t m_budget = uint64_t(512) << 20;
    uint64_t m_tick = 0;
};

}  // namespace glassbox::ui
