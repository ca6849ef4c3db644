// Tests for Sampler, SamplerSettings and Rng: each filter's semantics on
// hand-made logits, penalties, greedy ties, stage capture and the handling of
// bad settings. The draws themselves are tested in tst_sampler_draws.cpp.
#include <QtTest>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <map>
#include <set>
#include <vector>

#include "engine/rng.h"
#include "engine/sampler.h"
#include "sampler_test_support.h"

using namespace glassbox::engine;
using namespace glassbox::engine::sampler_test;

class TestSampler : public QObject {
    Q_OBJECT

private slots:
    void rngGoldenValues();
    void rngUniformRanges();
    void invalidSettingsRejected_data();
    void invalidSettingsRejected();
    void defaultsValidate();
    void greedyPicksArgmaxLowestIdOnTies();
    void greedyAfterPenalties();
    void repeatPenaltySemantics();
    void presenceFrequencyPenalties();
    void penaltyWindow();
    void topKKeepsHighest();
    void topPKeepsSmallestNucleus();
    void minPRelativeToMax();
    void temperatureComesBeforeTopPAndMinP();
    void filtersMatchReferenceOnRandomLogits();
    void stageCaptureContents();
    void greedyStageCapture();
};

void TestSampler::rngGoldenValues() {
    // Reference xoshiro256** outputs seeded through splitmix64.
    Rng zero(0);
    QCOMPARE(zero.nextU64(), 0x99ec5f36cb75f2b4ull);
    QCOMPARE(zero.nextU64(), 0xbf6e1f784956452aull);
    QCOMPARE(zero.nextU64(), 0x1a5f849d4933e6e0ull);
    Rng answer(42);
    QCOMPARE(answer.nextU64(), 0x15780b2e0c2ec716ull);
    answer.reseed(42);
    QCOMPARE(answer.nextU64(), 0x15780b2e0c2ec716ull);
}

void TestSampler::rngUniformRanges() {
    Rng rng(7);
    double sum = 0;
    for (int i = 0; i < 100000; ++i) {
        const double d = rng.nextDouble();
        const float f = rng.nextFloat();
        QVERIFY(d >= 0.0 && d < 1.0);
        QVERIFY(f >= 0.0f && f < 1.0f);
        QVERIFY(rng.nextBelow(10) < 10);
        sum += d;
    }
    QVERIFY(std::fabs(sum / 100000 - 0.5) < 0.01);
    QCOMPARE(rng.nextBelow(0), uint64_t(0));
}

void TestSampler::invalidSettingsRejected_data() {
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("field");
    const char* fields[] = {"temperature", "temperature", "topP", "topP", "minP", "topK",
                            "repeatPenalty", "presencePenalty", "frequencyPenalty",
                            "penaltyLastN", "maxTokens", "stopStrings", "stopStrings",
                            "stopStrings", "topLogprobs", "stageCandidates", "temperature",
                            "temperature"};
    for (int i = 0; i < int(std::size(fields)); ++i)
        QTest::addRow("%d-%s", i, fields[i]) << i << QString::fromLatin1(fields[i]);
}

void TestSampler::invalidSettingsRejected() {
    QFETCH(int, which);
    QFETCH(QString, field);
    SamplerSettings s = plainSettings();
    switch (which) {
        case 0: s.temperature = -0.1f; break;
        case 1: s.temperature = std::nanf(""); break;
        case 2: s.topP = 0.0f; break;
        case 3: s.topP = 1.5f; break;
        case 4: s.minP = -0.01f; break;
        case 5: s.topK = -1; break;
        case 6: s.repeatPenalty = 0.0f; break;
        case 7: s.presencePenalty = 2.5f; break;
        case 8: s.frequencyPenalty = -3.0f; break;
        case 9: s.penaltyLastN = -2; break;
        case 10: s.maxTokens = 0; break;
        case 11: s.stopStrings = std::vector<std::string>(17, "x"); break;
        case 12: s.stopStrings = {""}; break;
        case 13: s.stopStrings = {std::string(257, 'a')}; break;
        case 14: s.topLogprobs = 21; break;
        case 15: s.stageCandidates = 0; break;
        case 16: s.temperature = 1e9f; break;
        case 17: s.temperature = 1e-30f; break;
    }
    const Result<void> checked = s.validate();
    QVERIFY(!checked.ok());
    QCOMPARE(checked.error().code, ErrorCode::InvalidArgument);
    QCOMPARE(QString::fromStdString(checked.error().field), field);
    QVERIFY(QString::fromStdString(checked.error().message).contains(field));
    QVERIFY(!Sampler::create(s).ok());
}

void TestSampler::defaultsValidate() {
    QVERIFY(SamplerSettings{}.validate().ok());
    SamplerSettings edge = plainSettings();
    edge.temperature = 0.0f;
    edge.topP = 1.0f;
    edge.minP = 1.0f;
    edge.penaltyLastN = -1;
    edge.presencePenalty = -2.0f;
    edge.frequencyPenalty = 2.0f;
    QVERIFY(edge.validate().ok());
}

void TestSampler::greedyPicksArgmaxLowestIdOnTies() {
    SamplerSettings s = plainSettings();
    s.temperature = 0.0f;
    Sampler sampler = makeSampler(s);
    const std::vector<float> logits{1.0f, 3.0f, -2.0f, 3.0f, 2.9f};
    for (int i = 0; i < 10; ++i) {
        auto r = sampler.sample(logits, {});
        QVERIFY(r.ok());
        QCOMPARE(r->token, 1);
        QVERIFY(r->greedy);
        QCOMPARE(r->probability, 1.0f);
    }
}

void TestSampler::greedyAfterPenalties() {
    SamplerSettings s = plainSettings();
    s.temperature = 0.0f;
    s.repeatPenalty = 2.0f;
    Sampler sampler = makeSampler(s);
    const std::vector<float> logits{1.0f, 4.0f, 3.0f};
    const std::vector<int32_t> history{1};
    auto r = sampler.sample(logits, history);  // 4 / 2 = 2 < 3
    QVERIFY(r.ok());
    QCOMPARE(r->token, 2);
}

void TestSampler::repeatPenaltySemantics() {
    SamplerSettings s = plainSettings();
    s.repeatPenalty = 2.0f;
    s.captureStages = true;
    Sampler sampler = makeSampler(s);
    const std::vector<float> logits{4.0f, -4.0f, 1.0f, 0.0f};
    const std::vector<int32_t> history{0, 1, 1, 3, 99, -5};  // out-of-range ids ignored
    auto r = sampler.sample(logits, history);
    QVERIFY(r.ok());
    const SamplerStage& pen = r->stages[SamplerStageKind::Penalties];
    QVERIFY(pen.active);
    std::map<int32_t, float> value;
    for (const StageCandidate& c : pen.top) value[c.id] = c.logit;
    QCOMPARE(value[0], 2.0f);   // positive: divided, once however often it appeared
    QCOMPARE(value[1], -8.0f);  // negative: multiplied
    QCOMPARE(value[2], 1.0f);   // not in history
    QCOMPARE(value[3], 0.0f);   // zero stays zero
}

void TestSampler::presenceFrequencyPenalties() {
    SamplerSettings s = plainSettings();
    s.presencePenalty = 0.5f;
    s.frequencyPenalty = 0.25f;
    s.captureStages = true;
    Sampler sampler = makeSampler(s);
    const std::vector<float> logits{1.0f, 1.0f, 1.0f};
    const std::vector<int32_t> history{0, 0, 0, 1};
    auto r = sampler.sample(logits, history);
    QVERIFY(r.ok());
    std::map<int32_t, float> value;
    for (const StageCandidate& c : r->stages[SamplerStageKind::Penalties].top) value[c.id] = c.logit;
    QCOMPARE(value[0], 1.0f - 3 * 0.25f - 0.5f);
    QCOMPARE(value[1], 1.0f - 1 * 0.25f - 0.5f);
    QCOMPARE(value[2], 1.0f);
}

void TestSampler::penaltyWindow() {
    SamplerSettings s = plainSettings();
    s.frequencyPenalty = 1.0f;
    s.penaltyLastN = 2;
    s.captureStages = true;
    const std::vector<float> logits{0.0f, 0.0f, 0.0f};
    const std::vector<int32_t> history{0, 0, 0, 1, 2};
    Sampler windowed = makeSampler(s);
    auto r = windowed.sample(logits, history);
    QVERIFY(r.ok());
    std::map<int32_t, float> value;
    for (const StageCandidate& c : r->stages[SamplerStageKind::Penalties].top) value[c.id] = c.logit;
    QCOMPARE(value[0], 0.0f);  // outside the last two tokens
    QCOMPARE(value[1], -1.0f);
    QCOMPARE(value[2], -1.0f);

    s.penaltyLastN = -1;  // whole history
    Sampler whole = makeSampler(s);
    r = whole.sample(logits, history);
    value.clear();
    for (const StageCandidate& c : r->stages[SamplerStageKind::Penalties].top) value[c.id] = c.logit;
    QCOMPARE(value[0], -3.0f);

    s.penaltyLastN = 0;  // off
    Sampler off = makeSampler(s);
    r = off.sample(logits, history);
    QVERIFY(!r->stages[SamplerStageKind::Penalties].active);
    for (const StageCandidate& c : r->stages[SamplerStageKind::Penalties].top) QCOMPARE(c.logit, 0.0f);
}

void TestSampler::topKKeepsHighest() {
    SamplerSettings s = plainSettings();
    s.topK = 2;
    s.captureStages = true;
    Sampler sampler = makeSampler(s);
    const std::vector<float> logits{0.5f, 2.0f, 1.0f, 2.0f, -1.0f};
    for (int i = 0; i < 200; ++i) {
        auto r = sampler.sample(logits, {});
        QVERIFY(r.ok());
        QVERIFY(r->token == 1 || r->token == 3);
        QCOMPARE(r->stages[SamplerStageKind::TopK].survivors, int64_t(2));
        QCOMPARE(ids(r->stages[SamplerStageKind::TopK]), (std::vector<int32_t>{1, 3}));
    }
}

void TestSampler::topPKeepsSmallestNucleus() {
    const std::vector<float> logits = logitsFromProbs({0.05, 0.5, 0.15, 0.3});
    struct Case { float p; std::vector<int32_t> kept; };
    const Case cases[] = {{0.45f, {1}}, {0.75f, {1, 3}}, {0.81f, {1, 3, 2}}, {0.96f, {1, 3, 2, 0}}};
    for (const Case& c : cases) {
        SamplerSettings s = plainSettings();
        s.topP = c.p;
        s.captureStages = true;
        Sampler sampler = makeSampler(s);
        auto r = sampler.sample(logits, {});
        QVERIFY(r.ok());
        const SamplerStage& stage = r->stages[SamplerStageKind::TopP];
        QVERIFY(stage.active);
        QCOMPARE(ids(stage), c.kept);
        QCOMPARE(stage.survivors, int64_t(c.kept.size()));
        // The final probabilities are renormalised over the nucleus.
        double sum = 0;
        for (const StageCandidate& cand : r->stages[SamplerStageKind::Final].top) sum += cand.prob;
        QVERIFY(std::fabs(sum - 1.0) < 1e-5);
    }
}

void TestSampler::minPRelativeToMax() {
    const std::vector<float> logits = logitsFromProbs({0.05, 0.5, 0.15, 0.3});
    struct Case { float minP; std::vector<int32_t> kept; };
    const Case cases[] = {{0.7f, {1}}, {0.5f, {1, 3}}, {0.2f, {1, 3, 2}}, {0.09f, {1, 3, 2, 0}}};
    for (const Case& c : cases) {
        SamplerSettings s = plainSettings();
        s.minP = c.minP;
        s.captureStages = true;
        Sampler sampler = makeSampler(s);
        auto r = sampler.sample(logits, {});
        QVERIFY(r.ok());
        QCOMPARE(ids(r->stages[SamplerStageKind::MinP]), c.kept);
        QCOMPARE(ids(r->stages[SamplerStageKind::Final]), c.kept);
    }
}

void TestSampler::temperatureComesBeforeTopPAndMinP() {
    // At T = 2 the tempered probabilities are proportional to sqrt(p):
    // sqrt(.5, .3, .15, .05) = .707, .548, .387, .224 -> normalised
    // .380, .294, .208, .120.
    const std::vector<float> logits = logitsFromProbs({0.5, 0.3, 0.15, 0.05});
    SamplerSettings s = plainSettings();
    s.temperature = 2.0f;
    s.topP = 0.75f;  // T=1 would keep {0, 1}; tempered needs three tokens
    s.captureStages = true;
    auto r = makeSampler(s).sample(logits, {});
    QVERIFY(r.ok());
    QCOMPARE(ids(r->stages[SamplerStageKind::TopP]), (std::vector<int32_t>{0, 1, 2}));
    // Temperature stage values are the logits scaled by 1/T.
    QCOMPARE(r->stages[SamplerStageKind::Temperature].top[0].logit, logits[0] / 2.0f);

    // min-p 0.25: at T=1 keeps p >= .125 -> {0, 1, 2}; tempered ratio for
    // token 3 is sqrt(.05/.5) = .316 >= .25 -> all four survive.
    s.topP = 1.0f;
    s.minP = 0.25f;
    r = makeSampler(s).sample(logits, {});
    QCOMPARE(r->stages[SamplerStageKind::MinP].survivors, int64_t(4));
    s.temperature = 1.0f;
    r = makeSampler(s).sample(logits, {});
    QCOMPARE(r->stages[SamplerStageKind::MinP].survivors, int64_t(3));

    // top-k ignores temperature.
    s.minP = 0.0f;
    s.topK = 2;
    for (float t : {0.3f, 1.0f, 5.0f}) {
        s.temperature = t;
        r = makeSampler(s).sample(logits, {});
        QCOMPARE(ids(r->stages[SamplerStageKind::TopK]), (std::vector<int32_t>{0, 1}));
    }
}

void TestSampler::filtersMatchReferenceOnRandomLogits() {
    Rng settingsRng(99);
    for (int round = 0; round < 200; ++round) {
        const size_t vocab = 2 + settingsRng.nextBelow(1000);
        std::vector<float> logits = randomLogits(vocab, 1000 + uint64_t(round), 8.0f);
        if (round % 3 == 0) logits[settingsRng.nextBelow(vocab)] = kNegInf;
        SamplerSettings s = plainSettings();
        s.temperature = 0.2f + settingsRng.nextFloat() * 2.0f;
        s.topK = round % 4 == 0 ? 0 : int32_t(settingsRng.nextBelow(vocab + 5));
        s.topP = round % 5 == 0 ? 1.0f : 0.05f + 0.9f * settingsRng.nextFloat();
        s.minP = round % 2 == 0 ? 0.0f : 0.2f * settingsRng.nextFloat();
        s.captureStages = true;
        s.stageCandidates = SamplerSettings::kMaxStageCandidates;
        auto r = makeSampler(s).sample(logits, {});
        QVERIFY(r.ok());
        const std::vector<int32_t> expected =
            referenceSurvivors(logits, s.temperature, s.topK, s.topP, s.minP);
        std::vector<int32_t> got = ids(r->stages[SamplerStageKind::Final]);
        std::sort(got.begin(), got.end());
        QCOMPARE(got, expected);
        QVERIFY(std::binary_search(expected.begin(), expected.end(), r->token));
    }
}

void TestSampler::stageCaptureContents() {
    SamplerSettings s = plainSettings();
    s.temperature = 0.5f;
    s.topK = 3;
    s.minP = 0.0f;
    s.captureStages = true;
    s.stageCandidates = 2;
    Sampler sampler = makeSampler(s);
    const std::vector<float> logits{1.0f, 3.0f, 2.0f, kNegInf, 0.0f};
    SampleResult out;
    QVERIFY(sampler.sample(logits, {}, out).ok());
    QVERIFY(out.hasStages);
    for (size_t i = 0; i < kSamplerStageCount; ++i)
        QCOMPARE(size_t(out.stages.stages[i].kind), i);
    const SamplerStage& raw = out.stages[SamplerStageKind::Raw];
    QCOMPARE(raw.survivors, int64_t(4));  // -inf is not a candidate
    QCOMPARE(ids(raw), (std::vector<int32_t>{1, 2}));  // capped at stageCandidates, best first
    QCOMPARE(raw.top[0].logit, 3.0f);
    const double z = std::exp(3.0) + std::exp(2.0) + std::exp(1.0) + std::exp(0.0);
    QVERIFY(std::fabs(raw.top[0].prob - std::exp(3.0) / z) < 1e-6);
    QVERIFY(!out.stages[SamplerStageKind::Penalties].active);
    QCOMPARE(out.stages[SamplerStageKind::Penalties].top[0].logit, 3.0f);
    const SamplerStage& temp = out.stages[SamplerStageKind::Temperature];
    QVERIFY(temp.active);
    QCOMPARE(temp.top[0].logit, 6.0f);
    QCOMPARE(out.stages[SamplerStageKind::TopK].survivors, int64_t(3));
    QVERIFY(!out.stages[SamplerStageKind::TopP].active);
    QVERIFY(!out.stages[SamplerStageKind::MinP].active);
    const SamplerStage& last = out.stages[SamplerStageKind::Final];
    QCOMPARE(last.survivors, int64_t(3));
    const double zk = std::exp(6.0) + std::exp(4.0) + std::exp(2.0);
    QVERIFY(std::fabs(last.top[0].prob - std::exp(6.0) / zk) < 1e-6);
    QVERIFY(std::fabs(last.top[1].prob - std::exp(4.0) / zk) < 1e-6);
    QCOMPARE(QString(samplerStageName(SamplerStageKind::TopP)), QString("top-p"));

    // Turning capture off leaves the stages out.
    sampler.setCaptureStages(false);
    QVERIFY(sampler.sample(logits, {}, out).ok());
    QVERIFY(!out.hasStages);
}

void TestSampler::greedyStageCapture() {
    SamplerSettings s = plainSettings();
    s.temperature = 0.0f;
    s.topK = 2;
    s.captureStages = true;
    auto r = makeSampler(s).sample(std::vector<float>{0.0f, 5.0f, 1.0f}, {});
    QVERIFY(r.ok());
    QVERIFY(!r->stages[SamplerStageKind::Temperature].active);
    QVERIFY(!r->stages[SamplerStageKind::TopK].active);
    QCOMPARE(r->stages[SamplerStageKind::TopK].survivors, int64_t(3));
    const SamplerStage& last = r->stages[SamplerStageKind::Final];
    QCOMPARE(last.survivors, int64_t(1));
    QCOMPARE(last.top.size(), size_t(1));
    QCOMPARE(last.top[0].id, 1);
    QCOMPARE(last.top[0].prob, 1.0f);
}

QTEST_GUILESS_MAIN(TestSampler)
#include "tst_sampler.moc"
