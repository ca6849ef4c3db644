// Test and diagnostic controls of the CUDA backend, present in every build
// (they do nothing useful without CUDA): fault injection for device
// allocations, and the switch for decoding with CUDA graphs.
//
// Every device allocation the CUDA backend makes — device memory, pinned
// host buffers, the cuBLAS handle, CUDA graph instantiation — is counted;
// setDeviceAllocationFault(n) makes the n-th one counted from that call fail
// as if the device were out of memory (ErrorCode::OutOfMemory, the message
// naming the category and the bytes). The environment variable
// GLASSBOX_CUDA_FAIL_ALLOC=N arms the same fault from process start.
#pragma once

#include <cstdint>

namespace glassbox::engine {

// Arms a one-shot failure of the n-th device allocation from now on and
// restarts the count; n <= 0 disarms.
void setDeviceAllocationFault(int n);
// Device allocations attempted since the last setDeviceAllocationFault()
// (or since process start).
int deviceAllocationCount();
// Whether the armed fault has fired.
bool deviceAllocationFaultFired();

// For the backend's allocator: counts one allocation attempt and returns
// its number when it must fail by injection, 0 otherwise.
int consumeDeviceAllocation();

// Decode steps are captured once into a CUDA graph and replayed (on by
// default; GLASSBOX_CUDA_GRAPHS=0 turns it off at start-up). Read at every
// decode step, so it can be flipped on a live backend.
void setCudaGraphsEnabled(bool on);
bool cudaGraphsEnabled();
// Decode steps run by replaying a graph, process-wide.
uint64_t cudaGraphLaunchCount();
void noteCudaGraphLaunch();

}  // namespace glassbox::engine
