// Op records of a forward pass, shared by the backends (see pass_trace.h).
#include "engine/pass_trace.h"

#include "engine/capture.h"
#include "engine/model.h"

namespace glassbox::engine {

void traceEmbeddingOp(Capture& cap, const Model& model, int n) {
    cap.recordOp(-1, OpKind::Embedding, makeTokenIdsShape(n), makeShape({n, model.config().nEmbd}, TensorType::F32),
                 &model.tokenEmbedding());
}

void traceAttentionOps(Capture& cap, const ModelConfig& c, const LayerWeights& l, int layer, int n, int pos0,
                       KvCacheType kvType) {
    const TensorType f32 = TensorType::F32;
    const TensorType kv = kvType == KvCacheType::F16 ? TensorType::F16 : TensorType::F32;
    const int keys = pos0 + n;
    const ShapeDesc x = makeShape({n, c.nEmbd}, f32), q = makeShape({n, c.nHead, c.headDim}, f32),
                    k = makeShape({n, c.nHeadKv, c.headDim}, f32), s = makeShape({c.nHead, n, keys}, f32);
    cap.recordOp(layer, OpKind::AttnNorm, x, x, &l.attnNorm);
    cap.recordOp(layer, OpKind::QProj, x, q, &l.wq);
    cap.recordOp(layer, OpKind::KProj, x, k, &l.wk);
    cap.recordOp(layer, OpKind::VProj, x, k, &l.wv);
    if (l.bq) cap.recordOp(layer, OpKind::QkvBias, q, q, &*l.bq);
    cap.recordOp(layer, OpKind::Rope, q, q);
    cap.recordOp(layer, OpKind::KvStore, k, makeShape({2, keys, c.nHeadKv, c.headDim}, kv));
    cap.recordOp(layer, OpKind::Scores, q, s);
    cap.recordOp(layer, OpKind::Softmax, s, s);
    cap.recordOp(layer, OpKind::AttnValues, s, makeShape({n, c.nHead * c.headDim}, f32));
    cap.recordOp(layer, OpKind::OutProj, makeShape({n, c.nHead * c.headDim}, f32), x, &l.wo);
    cap.recordOp(layer, OpKind::AttnResidual, x, x);
}

void traceFeedForwardOps(Capture& cap, const ModelConfig& c, const LayerWeights& l, int layer, int n) {
    const ShapeDesc x = makeShape({n, c.nEmbd}, TensorType::F32), f = makeShape({n, c.nFf}, TensorType::F32);
    cap.recordOp(layer, OpKind::FfnNorm, x, x, &l.ffnNorm);
    cap.recordOp(layer, OpKind::GateProj, x, f, &l.wGate);
    cap.recordOp(layer, OpKind::UpProj, x, f, &l.wUp);
    cap.recordOp(layer, OpKind::SwiGlu, f, f);
    cap.recordOp(layer, OpKind::DownProj, f, x, &l.wDown);
    cap.recordOp(layer, OpKind::FfnResidual, x, x);
}

void traceHeadOps(Capture& cap, const Model& model, int n, int rows) {
    const ModelConfig& c = model.config();
    const ShapeDesc x = makeShape({rows, c.nEmbd}, TensorType::F32);
    cap.recordOp(-1, OpKind::FinalNorm, makeShape({n, c.nEmbd}, TensorType::F32), x, &model.outputNorm());
    cap.recordOp(-1, OpKind::Logits, x, makeShape({rows, c.nVocab}, TensorType::F32), &model.output());
}

}  // namespace glassbox::engine
