// Comparing two backends' logits: KL divergence of their next-token
// distributions (in double precision), top-1 agreement, scale-relative
// differences, and the greedy choice — shared by the GPU-against-CPU tests.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace glassbox::testing {

// Index of the first maximum.
int32_t argmaxLogit(std::span<const float> logits);

// Σ p·(log p − log q) with p = softmax(reference), q = softmax(test).
double klDivergence(std::span<const float> reference, std::span<const float> test);

// Largest |reference − test| divided by max(1, largest |reference|).
double relativeMaxDiff(std::span<const float> reference, std::span<const float> test);

// Whether all values are finite.
bool allFinite(std::span<const float> logits);

// Running agreement over many rows of nVocab logits.
struct LogitAgreement {
    int rows = 0;
    int top1Same = 0;
    double klSum = 0.0;
    double klMax = 0.0;
    double diffMax = 0.0;

    void add(std::span<const float> reference, std::span<const float> test);
    double meanKl() const { return rows ? klSum / rows : 0.0; }
    double top1Rate() const { return rows ? double(top1Same) / rows : 1.0; }
    std::string summary() const;  // "n rows: mean KL …, max KL …, top-1 …%, max rel diff …"
};

}  // namespace glassbox::testing
