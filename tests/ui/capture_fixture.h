// A captured run on the real default model for the inspection-panel tests:
// the model, a session with a Capture attached (everything recorded), the
// prompt's token ids and their display labels, plus small readers for the
// files the panels export. Header-only.
#pragma once

#include <QFile>
#include <QStringList>
#include <QtTest>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "engine/capture.h"
#include "engine/model.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "support/test_paths.h"

namespace glassbox::uitest {

struct CapturedRun {
    std::shared_ptr<const engine::Model> model;
    std::unique_ptr<engine::Session> session;
    std::shared_ptr<engine::Capture> capture;
    std::vector<int32_t> ids;
    std::vector<float> allLogits;  // filled by evaluateAll: one row per prompt token

    const engine::ModelConfig& config() const { return model->config(); }
    QString text(int32_t id) const { return QString::fromStdString(model->tokenizer().tokenText(id)); }
    QStringList labels() const {
        QStringList out;
        for (int32_t id : session->tokens()) out << text(id);
        return out;
    }
    std::shared_ptr<const engine::Capture> snapshot() const { return capture; }

    // Loads the model, attaches a capture and evaluates `prompt`. With
    // allLogits, keeps the logits of every prompt token.
    bool start(const char* prompt, int microBatch, bool withAllLogits, QString* error) {
        auto loaded = engine::Model::load(glassbox::testing::defaultModelPath());
        if (!loaded) return *error = QString::fromStdString(loaded.error().toString()), false;
        model = *loaded;
        engine::BackendOptions opts;
        opts.contextSize = 512;
        opts.microBatch = microBatch;
        opts.kvType = engine::KvCacheType::F16;
        auto created = engine::Session::create(model, opts);
        if (!created) return *error = QString::fromStdString(created.error().toString()), false;
        session = std::move(*created);
        capture = std::make_shared<engine::Capture>(*model, engine::CaptureOptions::all(), engine::KvCacheType::F16);
        session->attachCapture(capture);
        ids = model->tokenizer().encode(prompt, true, false);
        if (withAllLogits) {
            auto logits = session->evaluateAll(ids);
            if (!logits) return *error = QString::fromStdString(logits.error().toString()), false;
            allLogits = std::move(*logits);
            return true;
        }
        const engine::Status st = session->evaluate(ids);
        if (!st) return *error = QString::fromStdString(st.error().toString()), false;
        return true;
    }

    // Evaluates the greedy next token (one decode pass).
    bool decodeOne() {
        const auto logits = session->lastLogits();
        const int32_t next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
        return session->evaluate(std::vector<int32_t>{next}).ok();
    }
};

inline double l2(std::span<const float> v) {
    double sq = 0;
    for (float x : v) sq += double(x) * x;
    return std::sqrt(sq);
}

// Records of a CSV file (RFC 4180 quoting: fields may hold commas, quotes
// and line breaks); empty when it cannot be read.
inline QList<QStringList> readCsv(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    const QString text = QString::fromUtf8(f.readAll());
    QList<QStringList> records;
    QStringList record;
    QString field;
    bool quoted = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == QLatin1Char('"') && i + 1 < text.size() && text[i + 1] == QLatin1Char('"')) field += c, ++i;
            else if (c == QLatin1Char('"')) quoted = false;
            else field += c;
        } else if (c == QLatin1Char('"')) {
            quoted = true;
        } else if (c == QLatin1Char(',')) {
            record << field;
            field.clear();
        } else if (c == QLatin1Char('\n')) {
            record << field;
            records << record;
            record.clear();
            field.clear();
        } else {
            field += c;
        }
    }
    if (!field.isEmpty() || !record.isEmpty()) records << (record << field);
    return records;
}

// A .npy file's shape and float32 data; false when it is not one.
inline bool readNpy(const QString& path, std::vector<int64_t>& shape, std::vector<float>& data) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return false;
    const QByteArray bytes = f.readAll();
    if (bytes.size() < 10 || !bytes.startsWith("\x93NUMPY")) return false;
    const int headerLen = uchar(bytes[8]) | (uchar(bytes[9]) << 8);
    const QByteArray header = bytes.mid(10, headerLen);
    if (!header.contains("'descr': '<f4'") || !header.contains("'fortran_order': False")) return false;
    const int open = header.indexOf("'shape': ("), close = header.indexOf(')', open);
    if (open < 0 || close < 0) return false;
    shape.clear();
    int64_t count = 1;
    for (const QByteArray& part : header.mid(open + 10, close - open - 10).split(',')) {
        if (part.trimmed().isEmpty()) continue;
        shape.push_back(part.trimmed().toLongLong());
        count *= shape.back();
    }
    const qsizetype offset = 10 + headerLen;
    if (bytes.size() - offset != count * 4) return false;
    data.resize(size_t(count));
    std::memcpy(data.data(), bytes.constData() + offset, size_t(count) * 4);
    return true;
}

}  // namespace glassbox::uitest
