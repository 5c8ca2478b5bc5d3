// A stand-in for libedgetpu.so.1 with the same exported interface, so the delegate path of the addon runs
// on machines without a Coral device. Built by the vitest globalSetup (g++ -shared -fPIC).
//
// Behaviour, driven by environment variables read at call time:
//   MOCK_EDGETPU_DEVICES  comma-separated "usb:<path>" / "pci:<path>" entries; unset = one USB device,
//                         empty = no device at all
//   MOCK_EDGETPU_LOG      file to which every call is appended as one line:
//                         "create key=value ..." / "create-failed ..." / "prepare" / "destroy" / "list <n>"
//
// The delegate it returns is a valid TfLiteDelegate. Its Prepare claims exactly the nodes of the custom op
// `edgetpu-custom-op` (what edgetpu_compiler puts in a compiled *_edgetpu.tflite) and nothing else: a model
// without that op runs wholly on the CPU kernels behind the delegate (outputs equal the CPU path's), and a
// compiled model runs end to end. A claimed node does no inference: it fills its outputs deterministically —
// byte j of output o (o = position in the node's outputs) is (s + o + j) mod 256, where s is the sum of every
// byte of the node's non-constant inputs — so a test can predict them. Prepare logs "prepare" when it claims
// nothing and "prepare claimed=<n>" when it claims n nodes. A device option that matches no configured device
// makes create report through error_cb and return nullptr, like the real library.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tensorflow/lite/c/common.h"

namespace {

struct Device {
  int type;  // 0 = EDGETPU_APEX_PCI, 1 = EDGETPU_APEX_USB
  std::string path;
};

void Log(const std::string& line) {
  const char* file = std::getenv("MOCK_EDGETPU_LOG");
  if (file == nullptr || *file == '\0') return;
  FILE* f = std::fopen(file, "a");
  if (f == nullptr) return;
  std::fprintf(f, "%s\n", line.c_str());
  std::fclose(f);
}

std::vector<Device> Configured() {
  const char* spec = std::getenv("MOCK_EDGETPU_DEVICES");
  if (spec == nullptr) return {{1, "/sys/bus/usb/devices/mock-1"}};
  std::vector<Device> out;
  std::string s(spec);
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(start, end - start);
    size_t colon = item.find(':');
    std::string kind = item.substr(0, colon);
    std::string path = colon == std::string::npos ? "" : item.substr(colon + 1);
    if (kind == "usb") out.push_back({1, path});
    if (kind == "pci") out.push_back({0, path});
    start = end + 1;
  }
  return out;
}

// Resolves the `device` option like libedgetpu: "" / absent = any, ":N" = N-th of any type,
// "usb" / "pci" = first of that type, "usb:N" / "pci:N" = N-th of that type.
bool FindDevice(const std::string& spec, const std::vector<Device>& devices) {
  if (spec.empty()) return !devices.empty();
  size_t colon = spec.find(':');
  std::string kind = spec.substr(0, colon);
  int index = colon == std::string::npos ? 0 : std::atoi(spec.c_str() + colon + 1);
  int seen = 0;
  for (const auto& d : devices) {
    bool type_ok = kind.empty() || (kind == "usb" && d.type == 1) || (kind == "pci" && d.type == 0);
    if (type_ok && seen++ == index) return true;
  }
  return false;
}

constexpr const char* kEdgeTpuCustomOp = "edgetpu-custom-op";
// BuiltinOperator codes (schema; builtin_ops.h is not among the C headers the npm package ships).
constexpr int32_t kBuiltinCustom = 32;
constexpr int32_t kBuiltinDelegate = 51;

// The kernel that replaces each claimed edgetpu-custom-op node (see the file comment for what it computes).
TfLiteStatus KernelPrepare(TfLiteContext*, TfLiteNode*) { return kTfLiteOk; }

TfLiteStatus KernelInvoke(TfLiteContext* context, TfLiteNode* node) {
  unsigned sum = 0;
  for (int i = 0; i < node->inputs->size; ++i) {
    const int index = node->inputs->data[i];
    if (index < 0) continue;
    const TfLiteTensor& t = context->tensors[index];
    if (t.allocation_type == kTfLiteMmapRo || t.data.raw == nullptr) continue;
    const auto* bytes = reinterpret_cast<const unsigned char*>(t.data.raw);
    for (size_t b = 0; b < t.bytes; ++b) sum += bytes[b];
  }
  for (int o = 0; o < node->outputs->size; ++o) {
    const int index = node->outputs->data[o];
    if (index < 0) continue;
    TfLiteTensor& t = context->tensors[index];
    if (t.data.raw == nullptr) return kTfLiteError;
    auto* bytes = reinterpret_cast<unsigned char*>(t.data.raw);
    for (size_t j = 0; j < t.bytes; ++j) bytes[j] = static_cast<unsigned char>((sum + o + j) & 0xFF);
  }
  return kTfLiteOk;
}

TfLiteStatus Prepare(TfLiteContext* context, TfLiteDelegate* delegate) {
  TfLiteIntArray* plan = nullptr;
  if (context->GetExecutionPlan(context, &plan) != kTfLiteOk) return kTfLiteError;
  std::vector<int> claimed;
  for (int i = 0; i < plan->size; ++i) {
    TfLiteNode* node = nullptr;
    TfLiteRegistration* registration = nullptr;
    if (context->GetNodeAndRegistration(context, plan->data[i], &node, &registration) != kTfLiteOk)
      return kTfLiteError;
    if (registration->builtin_code == kBuiltinCustom && registration->custom_name != nullptr &&
        std::strcmp(registration->custom_name, kEdgeTpuCustomOp) == 0) {
      claimed.push_back(plan->data[i]);
    }
  }
  if (claimed.empty()) {
    Log("prepare");
    return kTfLiteOk;  // nothing compiled for the Edge TPU: every op stays on the CPU
  }
  Log("prepare claimed=" + std::to_string(claimed.size()));
  TfLiteRegistration kernel{};
  kernel.prepare = &KernelPrepare;
  kernel.invoke = &KernelInvoke;
  kernel.builtin_code = kBuiltinDelegate;
  kernel.custom_name = "MockEdgeTpuDelegate";
  kernel.version = 1;
  // Our own TfLiteIntArray (size + data): the mock links against nothing, TfLiteIntArrayCreate included.
  auto* nodes = static_cast<TfLiteIntArray*>(std::malloc(sizeof(int) * (claimed.size() + 1)));
  if (nodes == nullptr) return kTfLiteError;
  nodes->size = static_cast<int>(claimed.size());
  for (size_t i = 0; i < claimed.size(); ++i) nodes->data[i] = claimed[i];
  const TfLiteStatus status = context->ReplaceNodeSubsetsWithDelegateKernels(context, kernel, nodes, delegate);
  std::free(nodes);
  return status;
}

}  // namespace

// The struct layout of Coral's edgetpu_c.h.
extern "C" {

struct edgetpu_device {
  int type;
  const char* path;
};

__attribute__((visibility("default"))) TfLiteDelegate* tflite_plugin_create_delegate(
    char** keys, char** values, size_t n, void (*report_error)(const char*)) {
  std::string line;
  std::string device;
  for (size_t i = 0; i < n; ++i) {
    line += std::string(" ") + keys[i] + "=" + values[i];
    if (std::strcmp(keys[i], "device") == 0) device = values[i];
  }
  if (!FindDevice(device, Configured())) {
    Log("create-failed" + line);
    std::string message = "Could not find Edge TPU device " + (device.empty() ? std::string("(any)") : device);
    if (report_error != nullptr) report_error(message.c_str());
    return nullptr;
  }
  Log("create" + line);
  auto* delegate = new TfLiteDelegate();
  delegate->data_ = nullptr;
  delegate->Prepare = &Prepare;
  delegate->CopyFromBufferHandle = nullptr;
  delegate->CopyToBufferHandle = nullptr;
  delegate->FreeBufferHandle = nullptr;
  // TFLite prepares every op before handing the graph to a delegate that does not allow dynamic tensors, and
  // the unresolved edgetpu-custom-op fails that preparation: with this flag the delegate sees the graph first.
  delegate->flags = kTfLiteDelegateFlagsAllowDynamicTensors;
  return delegate;
}

__attribute__((visibility("default"))) void tflite_plugin_destroy_delegate(TfLiteDelegate* delegate) {
  Log("destroy");
  delete delegate;
}

__attribute__((visibility("default"))) edgetpu_device* edgetpu_list_devices(size_t* num_devices) {
  std::vector<Device> devices = Configured();
  Log("list " + std::to_string(devices.size()));
  *num_devices = devices.size();
  if (devices.empty()) return nullptr;
  // One extra entry with a null path ends the array: edgetpu_free_devices gets no count.
  auto* out = new edgetpu_device[devices.size() + 1];
  for (size_t i = 0; i < devices.size(); ++i) {
    out[i].type = devices[i].type;
    char* path = new char[devices[i].path.size() + 1];
    std::memcpy(path, devices[i].path.c_str(), devices[i].path.size() + 1);
    out[i].path = path;
  }
  out[devices.size()] = {-1, nullptr};
  return out;
}

__attribute__((visibility("default"))) void edgetpu_free_devices(edgetpu_device* devices) {
  if (devices == nullptr) return;
  Log("free-devices");
  for (edgetpu_device* d = devices; d->path != nullptr; ++d) delete[] d->path;
  delete[] devices;
}

}  // extern "C"
