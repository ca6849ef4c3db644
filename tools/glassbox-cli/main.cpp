// glassbox-cli: the engine, headless. Dispatches to one subcommand.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tools/glassbox-cli/commands.h"

namespace {

void printUsage() {
    std::fprintf(stderr,
                 "glassbox-cli " GLASSBOX_VERSION " — look inside a language model from the command line\n\n"
                 "usage: glassbox-cli COMMAND [options]\n\n"
                 "commands:\n"
                 "  info        -m MODEL                      metadata, architecture and tensor table\n"
                 "  tokenize    -m MODEL -p TEXT              token ids and pieces\n"
                 "  generate    -m MODEL -p PROMPT [--chat]   stream a completion (sampling flags: --help)\n"
                 "  logits      -m MODEL -f TEXT -o OUT.npy   teacher-forced logits for every position\n"
                 "  perplexity  -m MODEL -f TEXT [-c CTX]     perplexity of a text\n"
                 "  bench       -m MODEL [-t N] [-p 512] [-n 128] [--capture] [--device auto|cpu|gpu] [--gpu-layers N]\n"
                 "                                            prefill and decode tokens/s, and where the layers ran\n"
                 "  gpu-bench   -m MODEL [-p 512] [-n 128] [-r 5] [--json OUT]\n"
                 "                                            CUDA decode vs the memory-bandwidth bound, prefill vs cuBLAS\n"
                 "  inspect     -m MODEL -p PROMPT --out DIR [-n N] [--attention-npy] [--residual-npy] [--lens]\n"
                 "                                            record attention, shapes, activations (and the lens)\n"
                 "  plan        (-m MODEL | --config config.json [--weight-type Q4_0]) [-c CTX] [--sequences N]\n"
                 "              [--kv-type f16] [--ubatch 256] [-t N] [--budget 8GB] [--margin 0.1] [--json]\n"
                 "                                            will it fit: weights, KV cache, scratch, largest context\n"
                 "  quant-error -m MODEL [--reference REF.gguf] [--types q8_0,q4_k,...] [-t N] [--json] [--tensor NAME]\n"
                 "                                            error of each quantization type on every weight matrix\n"
                 "  requantize  -m MODEL --type q4_0 -o OUT.gguf [-t N]  write the model re-quantized to another type\n"
                 "  kld         -m QUANT --reference REF (-f TEXT | -p PROMPT) [-c 512] [--json] [--per-token OUT.npy]\n"
                 "                                            KL divergence, same top-1 and ΔPPL against a reference model\n"
                 "  make-model  -o OUT.gguf --shape llama3-8b|llama2-7b|smollm2-135m|tiny [--type q4_0] [--seed N]\n"
                 "              [--layers N] [--vocab N] [--narrow K] [-t N] [--dry-run]\n"
                 "                                            a model of that shape with random weights (--dry-run: its size)\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        printUsage();
        return argc < 2 ? 2 : 0;
    }
    const std::string command = argv[1];
    std::vector<std::string> args(argv + 2, argv + argc);
    using namespace glassbox::cli;
    if (command == "info") return runInfo(args);
    if (command == "tokenize") return runTokenize(args);
    if (command == "generate") return runGenerate(args);
    if (command == "logits") return runLogits(args);
    if (command == "perplexity") return runPerplexity(args);
    if (command == "bench") return runBench(args);
    if (command == "inspect") return runInspect(args);
    if (command == "plan") return runPlan(args);
    if (command == "quant-error") return runQuantError(args);
    if (command == "requantize") return runRequantize(args);
    if (command == "kld") return runKld(args);
    if (command == "make-model") return runMakeModel(args);
    if (command == "gpu-bench") return runGpuBench(args);
    std::fprintf(stderr, "error: unknown command '%s'\n\n", command.c_str());
    printUsage();
    return 2;
}
