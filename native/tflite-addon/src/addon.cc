// SwapLess TFLite binding: a thin node-addon-api layer over the TensorFlow Lite C API.
//
// The TFLite C library is never linked: it is dlopen'ed at run time from a path the JS loader chooses, and
// every function we need is resolved into a table (typed with decltype of the header declarations, so a
// signature drift is a compile error, not a crash). The Edge TPU delegate (libedgetpu or any library with
// the same plugin interface) is dlopen'ed the same way, per interpreter.
//
// Error policy (house style): TypeError for a JS value of the wrong type, RangeError for a bad value
// (index, size, shape), and a plain Error with a `code` property for everything else so the TS layer can
// map it to a typed SwapLess error without parsing messages:
//   TFLITE_ADDON_LOAD      the TFLite library or one of its symbols could not be loaded
//   TFLITE_ADDON_DELEGATE  the Edge TPU delegate library could not be loaded or refused to create a delegate
//   TFLITE_ADDON_RUNTIME   TFLite reported a failure (error-reporter messages in `reports`)
//   TFLITE_ADDON_BUSY      a call arrived while an invokeAsync() was in flight
//   TFLITE_ADDON_DISPOSED  a call arrived after dispose()

#include <dlfcn.h>
#include <napi.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tensorflow/lite/c/c_api.h"
#include "tensorflow/lite/c/common.h"

// The XNNPACK delegate is exported by this TFLite build but its header is not shipped. The options layout
// of TFLite 2.9 is { int32 num_threads; uint32 flags } (checked against the binary: OptionsDefault returns
// it in one register and Create reads 8 bytes).
struct SwlXnnpackOptions {
  int32_t num_threads;
  uint32_t flags;
};
constexpr uint32_t kXnnpackFlagQs8 = 1;  // accelerate signed int8 models
constexpr uint32_t kXnnpackFlagQu8 = 2;  // accelerate unsigned int8 models
using XnnpackOptionsDefaultFn = SwlXnnpackOptions (*)();
using XnnpackCreateFn = TfLiteDelegate* (*)(const SwlXnnpackOptions*);
using XnnpackDeleteFn = void (*)(TfLiteDelegate*);

// The external-delegate plugin interface that libedgetpu implements (Coral's edgetpu_c.h).
using PluginCreateFn = TfLiteDelegate* (*)(char** keys, char** values, size_t n, void (*report)(const char*));
using PluginDestroyFn = void (*)(TfLiteDelegate*);
struct SwlEdgeTpuDevice {
  int type;  // enum edgetpu_device_type: 0 = EDGETPU_APEX_PCI, 1 = EDGETPU_APEX_USB
  const char* path;
};
using ListDevicesFn = SwlEdgeTpuDevice* (*)(size_t* count);
using FreeDevicesFn = void (*)(SwlEdgeTpuDevice* devices);

namespace {

// ---------------------------------------------------------------------------------------------------------
// Errors

Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message,
                       const std::vector<std::string>& reports = {}) {
  std::string text = message;
  for (size_t i = 0; i < reports.size(); ++i) text += (i == 0 ? ": " : "; ") + reports[i];
  Napi::Error error = Napi::Error::New(env, text);
  error.Set("code", Napi::String::New(env, code));
  Napi::Array list = Napi::Array::New(env, reports.size());
  for (size_t i = 0; i < reports.size(); ++i) list.Set(static_cast<uint32_t>(i), reports[i]);
  error.Set("reports", list);
  return error;
}

std::string DlError() {
  const char* e = dlerror();
  return e != nullptr ? std::string(e) : std::string("unknown dlopen error");
}

// ---------------------------------------------------------------------------------------------------------
// The TFLite function table

struct Api {
  std::string path;
  void* handle = nullptr;
  decltype(&::TfLiteVersion) Version = nullptr;
  decltype(&::TfLiteModelCreate) ModelCreate = nullptr;
  decltype(&::TfLiteModelDelete) ModelDelete = nullptr;
  decltype(&::TfLiteInterpreterOptionsCreate) OptionsCreate = nullptr;
  decltype(&::TfLiteInterpreterOptionsDelete) OptionsDelete = nullptr;
  decltype(&::TfLiteInterpreterOptionsSetNumThreads) OptionsSetNumThreads = nullptr;
  decltype(&::TfLiteInterpreterOptionsAddDelegate) OptionsAddDelegate = nullptr;
  decltype(&::TfLiteInterpreterOptionsSetErrorReporter) OptionsSetErrorReporter = nullptr;
  decltype(&::TfLiteInterpreterCreate) InterpreterCreate = nullptr;
  decltype(&::TfLiteInterpreterDelete) InterpreterDelete = nullptr;
  decltype(&::TfLiteInterpreterGetInputTensorCount) GetInputTensorCount = nullptr;
  decltype(&::TfLiteInterpreterGetInputTensor) GetInputTensor = nullptr;
  decltype(&::TfLiteInterpreterResizeInputTensor) ResizeInputTensor = nullptr;
  decltype(&::TfLiteInterpreterAllocateTensors) AllocateTensors = nullptr;
  decltype(&::TfLiteInterpreterInvoke) Invoke = nullptr;
  decltype(&::TfLiteInterpreterGetOutputTensorCount) GetOutputTensorCount = nullptr;
  decltype(&::TfLiteInterpreterGetOutputTensor) GetOutputTensor = nullptr;
  decltype(&::TfLiteTensorType) TensorType = nullptr;
  decltype(&::TfLiteTensorNumDims) TensorNumDims = nullptr;
  decltype(&::TfLiteTensorDim) TensorDim = nullptr;
  decltype(&::TfLiteTensorByteSize) TensorByteSize = nullptr;
  decltype(&::TfLiteTensorData) TensorData = nullptr;
  decltype(&::TfLiteTensorName) TensorName = nullptr;
  decltype(&::TfLiteTensorQuantizationParams) TensorQuantizationParams = nullptr;
  decltype(&::TfLiteTypeGetName) TypeGetName = nullptr;
  XnnpackOptionsDefaultFn XnnpackOptionsDefault = nullptr;
  XnnpackCreateFn XnnpackCreate = nullptr;
  XnnpackDeleteFn XnnpackDelete = nullptr;
};

// Loaded libraries are shared process-wide (workers included) and never dlclose'd: TFLite and XNNPACK keep
// thread pools and static state whose teardown order under dlclose is not something we can control.
std::mutex g_api_mutex;
std::map<std::string, std::shared_ptr<Api>> g_apis;

template <typename Fn>
void Resolve(void* handle, const char* name, Fn* slot, std::vector<std::string>* missing) {
  dlerror();
  void* sym = dlsym(handle, name);
  if (sym == nullptr) {
    missing->push_back(std::string(name) + " (" + DlError() + ")");
    return;
  }
  *slot = reinterpret_cast<Fn>(sym);
}

// Returns the table or fills `error` with a message naming what failed.
std::shared_ptr<Api> LoadApi(const std::string& path, std::string* error) {
  std::lock_guard<std::mutex> lock(g_api_mutex);
  auto found = g_apis.find(path);
  if (found != g_apis.end()) return found->second;
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    *error = "dlopen failed for the TFLite C library " + path + ": " + DlError();
    return nullptr;
  }
  auto api = std::make_shared<Api>();
  api->path = path;
  api->handle = handle;
  std::vector<std::string> missing;
  Resolve(handle, "TfLiteVersion", &api->Version, &missing);
  Resolve(handle, "TfLiteModelCreate", &api->ModelCreate, &missing);
  Resolve(handle, "TfLiteModelDelete", &api->ModelDelete, &missing);
  Resolve(handle, "TfLiteInterpreterOptionsCreate", &api->OptionsCreate, &missing);
  Resolve(handle, "TfLiteInterpreterOptionsDelete", &api->OptionsDelete, &missing);
  Resolve(handle, "TfLiteInterpreterOptionsSetNumThreads", &api->OptionsSetNumThreads, &missing);
  Resolve(handle, "TfLiteInterpreterOptionsAddDelegate", &api->OptionsAddDelegate, &missing);
  Resolve(handle, "TfLiteInterpreterOptionsSetErrorReporter", &api->OptionsSetErrorReporter, &missing);
  Resolve(handle, "TfLiteInterpreterCreate", &api->InterpreterCreate, &missing);
  Resolve(handle, "TfLiteInterpreterDelete", &api->InterpreterDelete, &missing);
  Resolve(handle, "TfLiteInterpreterGetInputTensorCount", &api->GetInputTensorCount, &missing);
  Resolve(handle, "TfLiteInterpreterGetInputTensor", &api->GetInputTensor, &missing);
  Resolve(handle, "TfLiteInterpreterResizeInputTensor", &api->ResizeInputTensor, &missing);
  Resolve(handle, "TfLiteInterpreterAllocateTensors", &api->AllocateTensors, &missing);
  Resolve(handle, "TfLiteInterpreterInvoke", &api->Invoke, &missing);
  Resolve(handle, "TfLiteInterpreterGetOutputTensorCount", &api->GetOutputTensorCount, &missing);
  Resolve(handle, "TfLiteInterpreterGetOutputTensor", &api->GetOutputTensor, &missing);
  Resolve(handle, "TfLiteTensorType", &api->TensorType, &missing);
  Resolve(handle, "TfLiteTensorNumDims", &api->TensorNumDims, &missing);
  Resolve(handle, "TfLiteTensorDim", &api->TensorDim, &missing);
  Resolve(handle, "TfLiteTensorByteSize", &api->TensorByteSize, &missing);
  Resolve(handle, "TfLiteTensorData", &api->TensorData, &missing);
  Resolve(handle, "TfLiteTensorName", &api->TensorName, &missing);
  Resolve(handle, "TfLiteTensorQuantizationParams", &api->TensorQuantizationParams, &missing);
  Resolve(handle, "TfLiteTypeGetName", &api->TypeGetName, &missing);
  Resolve(handle, "TfLiteXNNPackDelegateOptionsDefault", &api->XnnpackOptionsDefault, &missing);
  Resolve(handle, "TfLiteXNNPackDelegateCreate", &api->XnnpackCreate, &missing);
  Resolve(handle, "TfLiteXNNPackDelegateDelete", &api->XnnpackDelete, &missing);
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    *error = "The library " + path + " is not a usable TFLite C library; missing symbols: " + list;
    // The handle stays open (refcounted, harmless) rather than risking a dlclose of a half-used library.
    return nullptr;
  }
  g_apis.emplace(path, api);
  return api;
}

// ---------------------------------------------------------------------------------------------------------
// Type mapping between TFLite tensors and JS typed arrays

struct ArrayKind {
  napi_typedarray_type type;
  size_t element_size;
  const char* js_name;
};

bool KindForTfLiteType(TfLiteType t, ArrayKind* kind) {
  switch (t) {
    case kTfLiteFloat32: *kind = {napi_float32_array, 4, "Float32Array"}; return true;
    case kTfLiteInt32: *kind = {napi_int32_array, 4, "Int32Array"}; return true;
    case kTfLiteUInt8: *kind = {napi_uint8_array, 1, "Uint8Array"}; return true;
    case kTfLiteInt64: *kind = {napi_bigint64_array, 8, "BigInt64Array"}; return true;
    case kTfLiteBool: *kind = {napi_uint8_array, 1, "Uint8Array"}; return true;
    case kTfLiteInt16: *kind = {napi_int16_array, 2, "Int16Array"}; return true;
    case kTfLiteInt8: *kind = {napi_int8_array, 1, "Int8Array"}; return true;
    // float16 has no JS array type: its raw bits travel in a Uint16Array.
    case kTfLiteFloat16: *kind = {napi_uint16_array, 2, "Uint16Array"}; return true;
    case kTfLiteFloat64: *kind = {napi_float64_array, 8, "Float64Array"}; return true;
    case kTfLiteUInt64: *kind = {napi_biguint64_array, 8, "BigUint64Array"}; return true;
    case kTfLiteUInt32: *kind = {napi_uint32_array, 4, "Uint32Array"}; return true;
    default: return false;
  }
}

const char* JsNameOf(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "typed array";
  }
}

std::string Describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) {
    auto ta = v.As<Napi::TypedArray>();
    return std::string("a ") + JsNameOf(ta.TypedArrayType()) + " of " + std::to_string(ta.ByteLength()) +
           " bytes";
  }
  if (v.IsArray()) return "an array of length " + std::to_string(v.As<Napi::Array>().Length());
  if (v.IsNumber()) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g", v.As<Napi::Number>().DoubleValue());
    return buf;
  }
  if (v.IsString()) return "a string";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsFunction()) return "a function";
  if (v.IsObject()) return "an object";
  return "a value of another type";
}

std::string Expected(const std::string& what, const std::string& for_what, const Napi::Value& got) {
  return "Expected " + what + " for " + for_what + " but received " + Describe(got);
}

// A non-negative integer index below `count`; TypeError for a non-number, RangeError otherwise.
int32_t IndexArg(const Napi::CallbackInfo& info, size_t at, int32_t count, const char* what) {
  Napi::Env env = info.Env();
  Napi::Value v = info[at];
  std::string range = "an integer in [0, " + std::to_string(count) + ")";
  if (!v.IsNumber()) throw Napi::TypeError::New(env, Expected(range, what, v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d >= count || static_cast<double>(static_cast<int32_t>(d)) != d) {
    throw Napi::RangeError::New(env, Expected(range, what, v));
  }
  return static_cast<int32_t>(d);
}

// The error callback of tflite_plugin_create_delegate carries no user data; creation runs on the calling
// thread, so a thread-local sink routes its messages to the right interpreter.
thread_local std::vector<std::string>* t_delegate_reports = nullptr;
void CollectDelegateError(const char* message) {
  if (t_delegate_reports != nullptr && message != nullptr && t_delegate_reports->size() < 32) {
    t_delegate_reports->emplace_back(message);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Per-environment state (worker threads load their own instance of the addon)

struct InstanceData {
  Napi::FunctionReference library_ctor;
  Napi::FunctionReference interpreter_ctor;
};

// ---------------------------------------------------------------------------------------------------------
// TfLiteLibrary: a loaded TFLite C library

class Library : public Napi::ObjectWrap<Library> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TfLiteLibrary",
                       {InstanceAccessor<&Library::Path>("path"), InstanceMethod<&Library::Version>("version")});
  }

  explicit Library(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Library>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) {
      throw Napi::TypeError::New(env, Expected("a library path string", "TfLiteLibrary(path)", info[0]));
    }
    std::string path = info[0].As<Napi::String>().Utf8Value();
    if (path.empty()) throw Napi::RangeError::New(env, "Expected a non-empty path for TfLiteLibrary(path)");
    std::string error;
    api_ = LoadApi(path, &error);
    if (!api_) throw CodedError(env, "TFLITE_ADDON_LOAD", error);
  }

  const std::shared_ptr<Api>& api() const { return api_; }

 private:
  Napi::Value Path(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), api_->path); }
  Napi::Value Version(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), api_->Version());
  }

  std::shared_ptr<Api> api_;
};

// ---------------------------------------------------------------------------------------------------------
// Interpreter

class Interpreter;

struct ReportSink {
  std::vector<std::string> reports;
};

class InvokeWorker : public Napi::AsyncWorker {
 public:
  InvokeWorker(Napi::Env env, Interpreter* owner, Napi::Object self);
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override;
  void OnOK() override;

 private:
  Interpreter* owner_;  // only touched in OnOK, on the main thread, while self_ keeps it alive
  // Execute() uses its own copies, never owner_, so it stays valid even if the owner is finalised at teardown.
  std::shared_ptr<Api> api_;
  TfLiteInterpreter* interpreter_;
  std::shared_ptr<ReportSink> sink_;
  // Keeps the JS object (and so the native interpreter) alive until the worker completes.
  Napi::ObjectReference self_;
  Napi::Promise::Deferred deferred_;
  TfLiteStatus status_ = kTfLiteOk;
};

class Interpreter : public Napi::ObjectWrap<Interpreter> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Interpreter",
        {
            InstanceMethod<&Interpreter::InputCount>("inputCount"),
            InstanceMethod<&Interpreter::OutputCount>("outputCount"),
            InstanceMethod<&Interpreter::InputInfo>("inputInfo"),
            InstanceMethod<&Interpreter::OutputInfo>("outputInfo"),
            InstanceMethod<&Interpreter::SetInput>("setInput"),
            InstanceMethod<&Interpreter::GetOutput>("getOutput"),
            InstanceMethod<&Interpreter::ResizeInput>("resizeInput"),
            InstanceMethod<&Interpreter::AllocateTensors>("allocateTensors"),
            InstanceMethod<&Interpreter::Invoke>("invoke"),
            InstanceMethod<&Interpreter::InvokeAsync>("invokeAsync"),
            InstanceMethod<&Interpreter::BenchmarkInvoke>("benchmarkInvoke"),
            InstanceMethod<&Interpreter::Dispose>("dispose"),
            InstanceAccessor<&Interpreter::Delegates>("delegates"),
            InstanceAccessor<&Interpreter::Busy>("busy"),
            InstanceAccessor<&Interpreter::Disposed>("disposed"),
        });
  }

  // new Interpreter(library, modelBytes, { threads, xnnpack, edgetpu: null | { library, options } })
  explicit Interpreter(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Interpreter>(info) {
    Napi::Env env = info.Env();
    auto* data = env.GetInstanceData<InstanceData>();
    if (!info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(data->library_ctor.Value())) {
      throw Napi::TypeError::New(env, Expected("a TfLiteLibrary", "the library argument", info[0]));
    }
    api_ = Library::Unwrap(info[0].As<Napi::Object>())->api();

    if (!info[1].IsTypedArray() && !info[1].IsArrayBuffer()) {
      throw Napi::TypeError::New(env, Expected("a Uint8Array of model bytes", "the model argument", info[1]));
    }
    const uint8_t* bytes = nullptr;
    size_t size = 0;
    if (info[1].IsArrayBuffer()) {
      auto ab = info[1].As<Napi::ArrayBuffer>();
      bytes = static_cast<const uint8_t*>(ab.Data());
      size = ab.ByteLength();
    } else {
      auto ta = info[1].As<Napi::TypedArray>();
      bytes = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
      size = ta.ByteLength();
    }
    // The flatbuffer root offset and the "TFL3" identifier live in the first 8 bytes; anything shorter or
    // with another identifier is not a model, and TfLiteModelCreate would only print that to stderr.
    if (size < 8 || std::memcmp(bytes + 4, "TFL3", 4) != 0) {
      throw Napi::RangeError::New(env, Expected("TFLite model bytes (file identifier TFL3)", "the model argument",
                                                info[1]));
    }

    int32_t threads = 1;
    bool use_xnnpack = true;
    std::string edgetpu_library;
    std::vector<std::string> keys, values;
    bool use_edgetpu = false;
    if (!info[2].IsUndefined()) {
      if (!info[2].IsObject()) {
        throw Napi::TypeError::New(env, Expected("an options object", "the options argument", info[2]));
      }
      Napi::Object o = info[2].As<Napi::Object>();
      Napi::Value t = o.Get("threads");
      if (!t.IsUndefined()) {
        if (!t.IsNumber()) throw Napi::TypeError::New(env, Expected("an integer in [1, 256]", "options.threads", t));
        double d = t.As<Napi::Number>().DoubleValue();
        if (!(d >= 1 && d <= 256) || static_cast<double>(static_cast<int32_t>(d)) != d) {
          throw Napi::RangeError::New(env, Expected("an integer in [1, 256]", "options.threads", t));
        }
        threads = static_cast<int32_t>(d);
      }
      Napi::Value x = o.Get("xnnpack");
      if (!x.IsUndefined()) {
        if (!x.IsBoolean()) throw Napi::TypeError::New(env, Expected("a boolean", "options.xnnpack", x));
        use_xnnpack = x.As<Napi::Boolean>().Value();
      }
      Napi::Value e = o.Get("edgetpu");
      if (!e.IsUndefined() && !e.IsNull()) {
        if (!e.IsObject()) throw Napi::TypeError::New(env, Expected("an object or null", "options.edgetpu", e));
        Napi::Object eo = e.As<Napi::Object>();
        Napi::Value lib = eo.Get("library");
        if (!lib.IsString()) {
          throw Napi::TypeError::New(env, Expected("a library path string", "options.edgetpu.library", lib));
        }
        edgetpu_library = lib.As<Napi::String>().Utf8Value();
        Napi::Value opts = eo.Get("options");
        if (!opts.IsUndefined()) {
          if (!opts.IsObject()) {
            throw Napi::TypeError::New(env, Expected("an object of strings", "options.edgetpu.options", opts));
          }
          Napi::Object oo = opts.As<Napi::Object>();
          Napi::Array names = oo.GetPropertyNames();
          for (uint32_t i = 0; i < names.Length(); ++i) {
            std::string key = names.Get(i).ToString().Utf8Value();
            Napi::Value val = oo.Get(key);
            if (!val.IsString()) {
              throw Napi::TypeError::New(env, Expected("a string", "options.edgetpu.options." + key, val));
            }
            keys.push_back(key);
            values.push_back(val.As<Napi::String>().Utf8Value());
          }
        }
        use_edgetpu = true;
      }
    }

    // TfLiteModelCreate does not copy: the model lives in our own 16-byte aligned copy (flatbuffer buffers
    // are 16-byte aligned relative to the start, and the JS bytes may move or be reused by the caller).
    model_size_ = size;
    if (posix_memalign(&model_bytes_, 16, size) != 0) throw Napi::Error::New(env, "Out of memory copying the model");
    std::memcpy(model_bytes_, bytes, size);
    model_ = api_->ModelCreate(model_bytes_, model_size_);
    if (model_ == nullptr) {
      Free();
      throw CodedError(env, "TFLITE_ADDON_RUNTIME",
                       "TfLiteModelCreate rejected the model bytes (" + std::to_string(size) +
                           " bytes); TFLite printed its reason on stderr");
    }

    if (use_edgetpu) {
      std::vector<std::string> reports;
      CreateEdgeTpuDelegate(edgetpu_library, keys, values, &reports);
      if (edgetpu_ == nullptr) {
        Free();
        throw CodedError(env, "TFLITE_ADDON_DELEGATE", "The Edge TPU delegate is unavailable",
                         reports.empty() ? std::vector<std::string>{"no reason given"} : reports);
      }
    }
    if (use_xnnpack) {
      SwlXnnpackOptions xo = api_->XnnpackOptionsDefault();
      xo.num_threads = threads;  // SetNumThreads only reaches the builtin kernels
      xo.flags |= kXnnpackFlagQs8 | kXnnpackFlagQu8;
      xnnpack_ = api_->XnnpackCreate(&xo);
      if (xnnpack_ == nullptr) {
        Free();
        throw CodedError(env, "TFLITE_ADDON_RUNTIME", "TfLiteXNNPackDelegateCreate failed");
      }
    }

    TfLiteInterpreterOptions* options = api_->OptionsCreate();
    api_->OptionsSetNumThreads(options, threads);
    api_->OptionsSetErrorReporter(options, &Interpreter::Report, sink_.get());
    // The Edge TPU delegate goes first so it claims its custom op before XNNPACK sees the graph.
    if (edgetpu_ != nullptr) api_->OptionsAddDelegate(options, edgetpu_);
    if (xnnpack_ != nullptr) api_->OptionsAddDelegate(options, xnnpack_);
    reports_.clear();
    interpreter_ = api_->InterpreterCreate(model_, options);
    // The interpreter keeps its own copy of the reporter; the delegates stay ours (freed after it).
    api_->OptionsDelete(options);
    if (interpreter_ == nullptr) {
      std::vector<std::string> reports = reports_;
      Free();
      throw CodedError(env, "TFLITE_ADDON_RUNTIME", "TfLiteInterpreterCreate failed", reports);
    }
    if (api_->AllocateTensors(interpreter_) != kTfLiteOk) {
      std::vector<std::string> reports = reports_;
      Free();
      throw CodedError(env, "TFLITE_ADDON_RUNTIME", "TfLiteInterpreterAllocateTensors failed", reports);
    }
    reports_.clear();
    // V8 cannot see native memory: report an estimate (model copy, TFLite's parsed model and XNNPACK's
    // packed weights are each about the model's size, plus the I/O tensors) so that interpreters a caller
    // forgets to dispose() are collected under memory pressure instead of accumulating.
    external_ = static_cast<int64_t>(model_size_) * (xnnpack_ != nullptr ? 3 : 2);
    for (int32_t i = 0; i < api_->GetInputTensorCount(interpreter_); ++i) {
      external_ += static_cast<int64_t>(api_->TensorByteSize(api_->GetInputTensor(interpreter_, i)));
    }
    for (int32_t i = 0; i < api_->GetOutputTensorCount(interpreter_); ++i) {
      external_ += static_cast<int64_t>(api_->TensorByteSize(api_->GetOutputTensor(interpreter_, i)));
    }
    Napi::MemoryManagement::AdjustExternalMemory(env, external_);
  }

  ~Interpreter() override {
    // Busy here is only reachable at environment teardown (a pending worker holds a reference otherwise):
    // the pool thread may still be inside Invoke, so the native objects are deliberately leaked, not freed.
    if (!busy_) Free();
  }

 private:
  friend class InvokeWorker;

  static void Report(void* user, const char* format, va_list args) {
    auto* sink = static_cast<ReportSink*>(user);
    if (sink->reports.size() >= 32) return;  // a failing op can report in a loop; keep the first ones
    char buf[1024];
    std::vsnprintf(buf, sizeof(buf), format, args);
    sink->reports.emplace_back(buf);
  }

  void CreateEdgeTpuDelegate(const std::string& library, std::vector<std::string>& keys,
                             std::vector<std::string>& values, std::vector<std::string>* reports) {
    dlerror();
    // Never dlclose'd: libedgetpu runs USB/PCIe threads that outlive a single delegate.
    void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      reports->push_back("dlopen failed for " + library + ": " + DlError());
      return;
    }
    dlerror();
    auto create = reinterpret_cast<PluginCreateFn>(dlsym(handle, "tflite_plugin_create_delegate"));
    if (create == nullptr) {
      reports->push_back(library + " does not export tflite_plugin_create_delegate: " + DlError());
      return;
    }
    dlerror();
    auto destroy = reinterpret_cast<PluginDestroyFn>(dlsym(handle, "tflite_plugin_destroy_delegate"));
    if (destroy == nullptr) {
      reports->push_back(library + " does not export tflite_plugin_destroy_delegate: " + DlError());
      return;
    }
    std::vector<char*> k, v;
    for (auto& s : keys) k.push_back(s.data());
    for (auto& s : values) v.push_back(s.data());
    std::vector<std::string> messages;
    t_delegate_reports = &messages;
    TfLiteDelegate* delegate = create(k.data(), v.data(), k.size(), &CollectDelegateError);
    t_delegate_reports = nullptr;
    if (delegate == nullptr) {
      reports->push_back("tflite_plugin_create_delegate in " + library + " returned no delegate");
      for (auto& m : messages) reports->push_back(m);
      return;
    }
    edgetpu_ = delegate;
    edgetpu_destroy_ = destroy;
  }

  // Frees in dependency order: the interpreter uses the delegates and the model, the model uses the bytes.
  void Free() {
    if (interpreter_ != nullptr) api_->InterpreterDelete(interpreter_);
    interpreter_ = nullptr;
    if (edgetpu_ != nullptr) edgetpu_destroy_(edgetpu_);
    edgetpu_ = nullptr;
    if (xnnpack_ != nullptr) api_->XnnpackDelete(xnnpack_);
    xnnpack_ = nullptr;
    if (model_ != nullptr) api_->ModelDelete(model_);
    model_ = nullptr;
    std::free(model_bytes_);
    model_bytes_ = nullptr;
    if (external_ != 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -external_);
    external_ = 0;
  }

  void CheckUsable(Napi::Env env, const char* what) {
    if (disposed_) {
      throw CodedError(env, "TFLITE_ADDON_DISPOSED",
                       std::string("Cannot call ") + what + "() on an interpreter that has been disposed");
    }
    if (busy_) {
      throw CodedError(env, "TFLITE_ADDON_BUSY",
                       std::string("Cannot call ") + what +
                           "() while an invokeAsync() is in flight on this interpreter; await it first");
    }
  }

  Napi::Object TensorInfo(Napi::Env env, const TfLiteTensor* t) {
    Napi::Object o = Napi::Object::New(env);
    const char* name = api_->TensorName(t);
    o.Set("name", name != nullptr ? name : "");
    TfLiteType type = api_->TensorType(t);
    o.Set("type", api_->TypeGetName(type));
    o.Set("typeCode", static_cast<double>(type));
    int32_t dims = api_->TensorNumDims(t);
    Napi::Array shape = Napi::Array::New(env, dims > 0 ? dims : 0);
    for (int32_t i = 0; i < dims; ++i) shape.Set(static_cast<uint32_t>(i), api_->TensorDim(t, i));
    o.Set("shape", shape);
    o.Set("byteSize", static_cast<double>(api_->TensorByteSize(t)));
    ArrayKind kind;
    o.Set("arrayType", KindForTfLiteType(type, &kind) ? Napi::Value(Napi::String::New(env, kind.js_name))
                                                      : env.Null());
    TfLiteQuantizationParams q = api_->TensorQuantizationParams(t);
    o.Set("scale", static_cast<double>(q.scale));
    o.Set("zeroPoint", q.zero_point);
    return o;
  }

  Napi::Value InputCount(const Napi::CallbackInfo& info) {
    CheckUsable(info.Env(), "inputCount");
    return Napi::Number::New(info.Env(), api_->GetInputTensorCount(interpreter_));
  }
  Napi::Value OutputCount(const Napi::CallbackInfo& info) {
    CheckUsable(info.Env(), "outputCount");
    return Napi::Number::New(info.Env(), api_->GetOutputTensorCount(interpreter_));
  }
  Napi::Value InputInfo(const Napi::CallbackInfo& info) {
    CheckUsable(info.Env(), "inputInfo");
    int32_t i = IndexArg(info, 0, api_->GetInputTensorCount(interpreter_), "the input index");
    return TensorInfo(info.Env(), api_->GetInputTensor(interpreter_, i));
  }
  Napi::Value OutputInfo(const Napi::CallbackInfo& info) {
    CheckUsable(info.Env(), "outputInfo");
    int32_t i = IndexArg(info, 0, api_->GetOutputTensorCount(interpreter_), "the output index");
    return TensorInfo(info.Env(), api_->GetOutputTensor(interpreter_, i));
  }

  // Checks that `v` is a typed array of the tensor's kind and exact byte size; returns its data pointer.
  void* CheckedArray(Napi::Env env, const Napi::Value& v, const TfLiteTensor* t, const std::string& what) {
    TfLiteType type = api_->TensorType(t);
    ArrayKind kind;
    if (!KindForTfLiteType(type, &kind)) {
      throw Napi::TypeError::New(env, std::string("Tensor type ") + api_->TypeGetName(type) + " of " + what +
                                          " cannot be exchanged as a typed array");
    }
    size_t bytes = api_->TensorByteSize(t);
    std::string want = std::string("a ") + kind.js_name + " of " + std::to_string(bytes / kind.element_size) +
                       " elements (" + api_->TypeGetName(type) + ")";
    if (!v.IsTypedArray()) throw Napi::TypeError::New(env, Expected(want, what, v));
    auto ta = v.As<Napi::TypedArray>();
    napi_typedarray_type got = ta.TypedArrayType();
    bool same = got == kind.type || (kind.type == napi_uint8_array && got == napi_uint8_clamped_array);
    if (!same) throw Napi::TypeError::New(env, Expected(want, what, v));
    if (ta.ByteLength() != bytes) throw Napi::RangeError::New(env, Expected(want, what, v));
    return static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  }

  Napi::Value SetInput(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckUsable(env, "setInput");
    int32_t i = IndexArg(info, 0, api_->GetInputTensorCount(interpreter_), "the input index");
    TfLiteTensor* t = api_->GetInputTensor(interpreter_, i);
    void* src = CheckedArray(env, info[1], t, "input " + std::to_string(i));
    void* dst = api_->TensorData(t);
    size_t bytes = api_->TensorByteSize(t);
    if (bytes > 0 && dst == nullptr) {
      throw CodedError(env, "TFLITE_ADDON_RUNTIME", "Input tensor " + std::to_string(i) + " has no buffer");
    }
    if (bytes > 0) std::memcpy(dst, src, bytes);
    return env.Undefined();
  }

  Napi::Value GetOutput(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckUsable(env, "getOutput");
    int32_t i = IndexArg(info, 0, api_->GetOutputTensorCount(interpreter_), "the output index");
    const TfLiteTensor* t = api_->GetOutputTensor(interpreter_, i);
    const void* src = api_->TensorData(t);
    size_t bytes = api_->TensorByteSize(t);
    if (bytes > 0 && src == nullptr) {
      throw CodedError(env, "TFLITE_ADDON_RUNTIME", "Output tensor " + std::to_string(i) + " has no buffer");
    }
    if (info.Length() > 1 && !info[1].IsUndefined()) {
      // Copy into the caller's array: no allocation on the hot path.
      void* dst = CheckedArray(env, info[1], t, "the target of output " + std::to_string(i));
      if (bytes > 0) std::memcpy(dst, src, bytes);
      return info[1];
    }
    TfLiteType type = api_->TensorType(t);
    ArrayKind kind;
    if (!KindForTfLiteType(type, &kind)) {
      throw Napi::TypeError::New(env, std::string("Tensor type ") + api_->TypeGetName(type) + " of output " +
                                          std::to_string(i) + " cannot be exchanged as a typed array");
    }
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, bytes);
    if (bytes > 0) std::memcpy(ab.Data(), src, bytes);
    napi_value result;
    napi_status s = napi_create_typedarray(env, kind.type, bytes / kind.element_size, ab, 0, &result);
    NAPI_THROW_IF_FAILED(env, s, Napi::Value());
    return Napi::Value(env, result);
  }

  Napi::Value ResizeInput(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckUsable(env, "resizeInput");
    int32_t i = IndexArg(info, 0, api_->GetInputTensorCount(interpreter_), "the input index");
    if (!info[1].IsArray()) throw Napi::TypeError::New(env, Expected("an array of dimensions", "the shape", info[1]));
    Napi::Array a = info[1].As<Napi::Array>();
    std::vector<int> dims;
    for (uint32_t d = 0; d < a.Length(); ++d) {
      Napi::Value v = a.Get(d);
      std::string what = "dimension " + std::to_string(d) + " of the shape";
      if (!v.IsNumber()) throw Napi::TypeError::New(env, Expected("a positive integer", what, v));
      double x = v.As<Napi::Number>().DoubleValue();
      if (!(x >= 1 && x <= 2147483647.0) || static_cast<double>(static_cast<int>(x)) != x) {
        throw Napi::RangeError::New(env, Expected("a positive integer", what, v));
      }
      dims.push_back(static_cast<int>(x));
    }
    if (dims.empty()) throw Napi::RangeError::New(env, Expected("a non-empty array", "the shape", info[1]));
    reports_.clear();
    if (api_->ResizeInputTensor(interpreter_, i, dims.data(), static_cast<int32_t>(dims.size())) != kTfLiteOk) {
      throw CodedError(env, "TFLITE_ADDON_RUNTIME", "TfLiteInterpreterResizeInputTensor failed", reports_);
    }
    return env.Undefined();
  }

  Napi::Value AllocateTensors(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckUsable(env, "allocateTensors");
    reports_.clear();
    if (api_->AllocateTensors(interpreter_) != kTfLiteOk) {
      throw CodedError(env, "TFLITE_ADDON_RUNTIME", "TfLiteInterpreterAllocateTensors failed", reports_);
    }
    return env.Undefined();
  }

  Napi::Value Invoke(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckUsable(env, "invoke");
    reports_.clear();
    if (api_->Invoke(interpreter_) != kTfLiteOk) {
      throw CodedError(env, "TFLITE_ADDON_RUNTIME", "TfLiteInterpreterInvoke failed", reports_);
    }
    return env.Undefined();
  }

  Napi::Value InvokeAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckUsable(env, "invokeAsync");
    reports_.clear();
    busy_ = true;
    auto* worker = new InvokeWorker(env, this, info.This().As<Napi::Object>());
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  // Times n invokes from C++ alone (steady clock, ns per invoke) so the JS round-trip overhead can be
  // compared with the pure invoke cost in the same process.
  Napi::Value BenchmarkInvoke(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckUsable(env, "benchmarkInvoke");
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, Expected("an integer in [1, 10000000]", "n", info[0]));
    double d = info[0].As<Napi::Number>().DoubleValue();
    if (!(d >= 1 && d <= 1e7) || static_cast<double>(static_cast<int64_t>(d)) != d) {
      throw Napi::RangeError::New(env, Expected("an integer in [1, 10000000]", "n", info[0]));
    }
    size_t n = static_cast<size_t>(d);
    Napi::Float64Array out = Napi::Float64Array::New(env, n);
    reports_.clear();
    for (size_t i = 0; i < n; ++i) {
      auto start = std::chrono::steady_clock::now();
      TfLiteStatus s = api_->Invoke(interpreter_);
      auto end = std::chrono::steady_clock::now();
      if (s != kTfLiteOk) throw CodedError(env, "TFLITE_ADDON_RUNTIME", "TfLiteInterpreterInvoke failed", reports_);
      out[i] = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
    }
    return out;
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    if (disposed_) return info.Env().Undefined();
    disposed_ = true;
    // With an invoke in flight the worker thread is using the interpreter: the worker frees on completion.
    if (!busy_) Free();
    return info.Env().Undefined();
  }

  Napi::Value Delegates(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array a = Napi::Array::New(env);
    uint32_t n = 0;
    if (edgetpu_ != nullptr) a.Set(n++, "edgetpu");
    if (xnnpack_ != nullptr) a.Set(n++, "xnnpack");
    return a;
  }
  Napi::Value Busy(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), busy_); }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }

  std::shared_ptr<Api> api_;
  void* model_bytes_ = nullptr;
  size_t model_size_ = 0;
  int64_t external_ = 0;  // bytes reported to V8 with AdjustExternalMemory
  TfLiteModel* model_ = nullptr;
  TfLiteInterpreter* interpreter_ = nullptr;
  TfLiteDelegate* xnnpack_ = nullptr;
  TfLiteDelegate* edgetpu_ = nullptr;
  PluginDestroyFn edgetpu_destroy_ = nullptr;
  // Written by Report() (on the pool thread during invokeAsync); read only when no invoke is running.
  // Shared with the worker so a teardown-time invoke never writes into freed memory.
  std::shared_ptr<ReportSink> sink_ = std::make_shared<ReportSink>();
  std::vector<std::string>& reports_ = sink_->reports;
  bool busy_ = false;                 // main-thread only
  bool disposed_ = false;             // main-thread only
};

InvokeWorker::InvokeWorker(Napi::Env env, Interpreter* owner, Napi::Object self)
    : Napi::AsyncWorker(env, "swapless:tflite-invoke"),
      owner_(owner),
      api_(owner->api_),
      interpreter_(owner->interpreter_),
      sink_(owner->sink_),
      self_(Napi::Persistent(self)),
      deferred_(Napi::Promise::Deferred::New(env)) {}

void InvokeWorker::Execute() {
  status_ = api_->Invoke(interpreter_);
}

void InvokeWorker::OnOK() {
  Napi::Env env = Env();
  owner_->busy_ = false;
  std::vector<std::string> reports = sink_->reports;
  // dispose() arrived while we ran: this is the deferred free. The invoke itself completed, so the promise
  // still settles by its own status (its outputs are simply no longer readable).
  if (owner_->disposed_) owner_->Free();
  if (status_ != kTfLiteOk) {
    deferred_.Reject(CodedError(env, "TFLITE_ADDON_RUNTIME", "TfLiteInterpreterInvoke failed", reports).Value());
  } else {
    deferred_.Resolve(env.Undefined());
  }
}

// ---------------------------------------------------------------------------------------------------------
// Module functions

Napi::Value ListEdgeTpus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    throw Napi::TypeError::New(env, Expected("a library path string", "listEdgeTpus(library)", info[0]));
  }
  std::string library = info[0].As<Napi::String>().Utf8Value();
  Napi::Object result = Napi::Object::New(env);
  Napi::Array devices = Napi::Array::New(env);
  result.Set("devices", devices);
  result.Set("error", env.Null());
  dlerror();
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    result.Set("error", "dlopen failed for " + library + ": " + DlError());
    return result;
  }
  dlerror();
  auto list = reinterpret_cast<ListDevicesFn>(dlsym(handle, "edgetpu_list_devices"));
  auto free_devices = reinterpret_cast<FreeDevicesFn>(dlsym(handle, "edgetpu_free_devices"));
  if (list == nullptr || free_devices == nullptr) {
    result.Set("error", library + " does not export edgetpu_list_devices/edgetpu_free_devices");
    return result;
  }
  size_t count = 0;
  SwlEdgeTpuDevice* found = list(&count);
  for (size_t i = 0; found != nullptr && i < count; ++i) {
    Napi::Object d = Napi::Object::New(env);
    d.Set("type", found[i].type);
    d.Set("path", found[i].path != nullptr ? found[i].path : "");
    devices.Set(static_cast<uint32_t>(i), d);
  }
  if (found != nullptr) free_devices(found);
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new InstanceData();
  Napi::Function library = Library::Define(env);
  Napi::Function interpreter = Interpreter::Define(env);
  data->library_ctor = Napi::Persistent(library);
  data->interpreter_ctor = Napi::Persistent(interpreter);
  env.SetInstanceData(data);
  exports.Set("TfLiteLibrary", library);
  exports.Set("Interpreter", interpreter);
  exports.Set("listEdgeTpus", Napi::Function::New(env, ListEdgeTpus, "listEdgeTpus"));
  exports.Set("XNNPACK_FLAG_QS8", Napi::Number::New(env, kXnnpackFlagQs8));
  exports.Set("XNNPACK_FLAG_QU8", Napi::Number::New(env, kXnnpackFlagQu8));
  return exports;
}

}  // namespace

NODE_API_MODULE(swapless_tflite, Init)
