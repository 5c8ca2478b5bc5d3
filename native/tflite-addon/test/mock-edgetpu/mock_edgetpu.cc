// A stand-in for libedgetpu.so.1 with the same exported interface, so the delegate path of the addon runs
// on machines without a Coral device. Built by the vitest globalSetup (g++ -shared -fPIC).
//
// Behaviour, driven by environment variables read at call time:
//   MOCK_EDGETPU_DEVICES  comma-separated "usb:<path>" / "pci:<path>" entries; unset = one USB device,
//                         empty = no device at all
//   MOCK_EDGETPU_LOG      file to which every call is appended as one line:
//                         "create key=value ..." / "create-failed ..." / "prepare" / "destroy" / "list <n>"
//
// The delegate it returns is a valid TfLiteDelegate whose Prepare claims no nodes, so TFLite runs the whole
// graph on the CPU and outputs equal the CPU path's. A device option that matches no configured device
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

TfLiteStatus Prepare(TfLiteContext*, TfLiteDelegate*) {
  Log("prepare");
  return kTfLiteOk;  // claims no nodes: every op stays on the CPU
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
  delegate->flags = kTfLiteDelegateFlagsNone;
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
