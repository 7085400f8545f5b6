// ims_native: the few things JavaScript cannot do for the IMS bus.
//
// - map a file MAP_SHARED into an ArrayBuffer (the finalizer unmaps it),
// - shared (cross-process) futex wait/wake on a 32-bit word inside such a mapping,
// - pin the calling process to a CPU set, yield the CPU,
// - msync a mapped range, fsync/fdatasync a file descriptor,
// - CRC32C (SSE4.2 instruction when the CPU has it, a table otherwise),
// - a monotonic and a real-time clock read into a caller-owned typed array (no allocation).
//
// Every failure throws a JS Error naming the call, the path where there is one, and errno, so an
// operator can act on it. Arguments are validated at this boundary with TypeErrors.

#include <napi.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#endif

// Older kernel headers declare struct futex_waitv but not the size flag it needs.
#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32 0x02
#endif

namespace {

// The largest mapping we accept: rings and journal segments are sized in MiB, never TiB. A
// larger request is a configuration mistake and is refused rather than attempted.
constexpr uint64_t kMaxMappingBytes = 1ULL << 36;  // 64 GiB

Napi::Error SysError(Napi::Env env, const char* call, const std::string& path, int err) {
  std::string msg = std::string("ims_native.") + call + " failed";
  if (!path.empty()) msg += " for '" + path + "'";
  msg += ": " + std::string(strerror(err)) + " (errno " + std::to_string(err) + ")";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, call));
  if (!path.empty()) e.Set("path", Napi::String::New(env, path));
  return e;
}

void ThrowType(Napi::Env env, const std::string& msg) {
  Napi::TypeError::New(env, "ims_native: " + msg).ThrowAsJavaScriptException();
}

bool IsNonNegativeInteger(const Napi::Value& v) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  return d >= 0 && d <= 9007199254740991.0 && static_cast<double>(static_cast<uint64_t>(d)) == d;
}

struct Mapping {
  void* addr;
  size_t length;
};

void FinalizeMapping(Napi::Env /*env*/, void* /*data*/, Mapping* m) {
  munmap(m->addr, m->length);
  delete m;
}

// mapFile(path, sizeBytes, create) -> ArrayBuffer
//   create=true: opens with O_CREAT and grows the file to sizeBytes if it is smaller (never
//   shrinks it: a consumer that maps a live ring must not truncate it under the producer).
//   create=false: the file must exist; sizeBytes=0 maps the file's whole current size, any other
//   value must not exceed it.
Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !IsNonNegativeInteger(info[1]) || !info[2].IsBoolean()) {
    ThrowType(env, "mapFile(path: string, sizeBytes: non-negative integer, create: boolean)");
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  uint64_t size = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
  bool create = info[2].As<Napi::Boolean>().Value();
  if (size > kMaxMappingBytes) {
    ThrowType(env, "mapFile size " + std::to_string(size) + " exceeds the 64 GiB limit");
    return env.Undefined();
  }
  if (create && size == 0) {
    ThrowType(env, "mapFile with create=true needs a size greater than 0");
    return env.Undefined();
  }
  int fd = open(path.c_str(), create ? (O_RDWR | O_CREAT | O_CLOEXEC) : (O_RDWR | O_CLOEXEC), 0644);
  if (fd < 0) {
    SysError(env, "open", path, errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    SysError(env, "fstat", path, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint64_t current = static_cast<uint64_t>(st.st_size);
  if (create && current < size) {
    // posix_fallocate reserves the blocks now, so a full /dev/shm or disk is an error here at
    // start-up instead of a SIGBUS on first touch in the middle of trading.
    int err = posix_fallocate(fd, 0, static_cast<off_t>(size));
    if (err != 0) {
      close(fd);
      SysError(env, "posix_fallocate", path, err).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    current = size;
  }
  if (!create && size == 0) size = current;
  if (size == 0 || size > current) {
    close(fd);
    std::string msg = "ims_native.mapFile: '" + path + "' has " + std::to_string(current) +
                      " bytes but " + std::to_string(size) + " were asked for; it is not the file expected (recreate it)";
    Napi::Error::New(env, msg).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int mmapErr = errno;
  close(fd);  // the mapping keeps the file alive
  if (addr == MAP_FAILED) {
    SysError(env, "mmap", path, mmapErr).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Mapping* m = new Mapping{addr, static_cast<size_t>(size)};
  return Napi::ArrayBuffer::New(env, addr, m->length, FinalizeMapping, m);
}

// unlinkFile(path) -> boolean (false when it did not exist)
Napi::Value UnlinkFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    ThrowType(env, "unlinkFile(path: string)");
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    SysError(env, "unlink", path, errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Boolean::New(env, true);
}

// Resolves (arrayBuffer, byteOffset) to an aligned 32-bit word inside the buffer, or throws.
uint32_t* WordAt(const Napi::CallbackInfo& info, const char* call) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArrayBuffer() || !IsNonNegativeInteger(info[1])) {
    ThrowType(env, std::string(call) + "(buffer: ArrayBuffer, byteOffset: integer, ...)");
    return nullptr;
  }
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  uint64_t off = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
  if (off % 4 != 0 || off + 4 > ab.ByteLength()) {
    ThrowType(env, std::string(call) + ": byteOffset " + std::to_string(off) +
                       " is not a 4-byte aligned word inside the buffer of " + std::to_string(ab.ByteLength()) + " bytes");
    return nullptr;
  }
  return reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(ab.Data()) + off);
}

// futexWait(buffer, byteOffset, expected, timeoutNs) -> 0 woken, 1 timed out, 2 value differed.
// A shared futex (no FUTEX_PRIVATE_FLAG): waiter and waker live in different processes that map
// the same file. timeoutNs < 0 waits without a bound (callers always pass a bound in practice).
Napi::Value FutexWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t* word = WordAt(info, "futexWait");
  if (word == nullptr) return env.Undefined();
  if (info.Length() < 4 || !info[2].IsNumber() || !info[3].IsNumber()) {
    ThrowType(env, "futexWait(buffer, byteOffset, expected: int32, timeoutNs: number)");
    return env.Undefined();
  }
  uint32_t expected = static_cast<uint32_t>(info[2].As<Napi::Number>().Int32Value());
  double timeoutNs = info[3].As<Napi::Number>().DoubleValue();
  struct timespec ts;
  struct timespec* tsp = nullptr;
  if (timeoutNs >= 0) {
    uint64_t ns = static_cast<uint64_t>(timeoutNs);
    ts.tv_sec = static_cast<time_t>(ns / 1000000000ULL);
    ts.tv_nsec = static_cast<long>(ns % 1000000000ULL);
    tsp = &ts;
  }
  long rc = syscall(SYS_futex, word, FUTEX_WAIT, expected, tsp, nullptr, 0);
  if (rc == 0) return Napi::Number::New(env, 0);
  if (errno == ETIMEDOUT) return Napi::Number::New(env, 1);
  if (errno == EAGAIN) return Napi::Number::New(env, 2);
  if (errno == EINTR) return Napi::Number::New(env, 0);  // a signal: the caller re-checks its condition
  SysError(env, "futex(FUTEX_WAIT)", "", errno).ThrowAsJavaScriptException();
  return env.Undefined();
}

// futexWake(buffer, byteOffset, count) -> number of waiters woken.
Napi::Value FutexWake(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t* word = WordAt(info, "futexWake");
  if (word == nullptr) return env.Undefined();
  int count = INT_MAX;
  if (info.Length() >= 3 && info[2].IsNumber()) count = info[2].As<Napi::Number>().Int32Value();
  if (count <= 0) count = INT_MAX;
  long rc = syscall(SYS_futex, word, FUTEX_WAKE, count, nullptr, nullptr, 0);
  if (rc < 0) {
    SysError(env, "futex(FUTEX_WAKE)", "", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, static_cast<double>(rc));
}

// futexWaitMany(buffers: ArrayBuffer[], byteOffsets: number[], expected: number[], timeoutNs) ->
// index of the word that was woken, -1 timed out, -2 a value already differed. Uses futex_waitv
// (Linux >= 5.16) so a process that consumes several rings can sleep on all of them at once; on
// an older kernel it falls back to a bounded wait on the first word.
constexpr size_t kMaxWaitWords = 8;
Napi::Value FutexWaitMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsArray() || !info[1].IsArray() || !info[2].IsArray() || !info[3].IsNumber()) {
    ThrowType(env, "futexWaitMany(buffers: ArrayBuffer[], byteOffsets: number[], expected: number[], timeoutNs: number)");
    return env.Undefined();
  }
  Napi::Array bufs = info[0].As<Napi::Array>();
  Napi::Array offs = info[1].As<Napi::Array>();
  Napi::Array exps = info[2].As<Napi::Array>();
  uint32_t n = bufs.Length();
  if (n == 0 || n > kMaxWaitWords || offs.Length() != n || exps.Length() != n) {
    ThrowType(env, "futexWaitMany: 1 to 8 words, with as many offsets and expected values");
    return env.Undefined();
  }
  struct futex_waitv waiters[kMaxWaitWords];
  memset(waiters, 0, sizeof(waiters));
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value b = bufs.Get(i);
    Napi::Value o = offs.Get(i);
    Napi::Value e = exps.Get(i);
    if (!b.IsArrayBuffer() || !IsNonNegativeInteger(o) || !e.IsNumber()) {
      ThrowType(env, "futexWaitMany: entry " + std::to_string(i) + " needs an ArrayBuffer, an offset and a number");
      return env.Undefined();
    }
    Napi::ArrayBuffer ab = b.As<Napi::ArrayBuffer>();
    uint64_t off = static_cast<uint64_t>(o.As<Napi::Number>().DoubleValue());
    if (off % 4 != 0 || off + 4 > ab.ByteLength()) {
      ThrowType(env, "futexWaitMany: offset " + std::to_string(off) + " is not an aligned word inside buffer " + std::to_string(i));
      return env.Undefined();
    }
    waiters[i].uaddr = reinterpret_cast<uintptr_t>(static_cast<uint8_t*>(ab.Data()) + off);
    waiters[i].val = static_cast<uint32_t>(e.As<Napi::Number>().Int32Value());
    waiters[i].flags = FUTEX2_SIZE_U32;  // shared: no FUTEX2_PRIVATE
  }
  double timeoutNs = info[3].As<Napi::Number>().DoubleValue();
  struct timespec abs;
  clock_gettime(CLOCK_MONOTONIC, &abs);
  uint64_t ns = timeoutNs < 0 ? 3600ULL * 1000000000ULL : static_cast<uint64_t>(timeoutNs);
  abs.tv_sec += static_cast<time_t>(ns / 1000000000ULL);
  abs.tv_nsec += static_cast<long>(ns % 1000000000ULL);
  if (abs.tv_nsec >= 1000000000L) {
    abs.tv_sec += 1;
    abs.tv_nsec -= 1000000000L;
  }
#ifdef SYS_futex_waitv
  long rc = syscall(SYS_futex_waitv, waiters, n, 0, &abs, CLOCK_MONOTONIC);
  if (rc >= 0) return Napi::Number::New(env, static_cast<double>(rc));
  int err = errno;
  if (err == ETIMEDOUT) return Napi::Number::New(env, -1);
  if (err == EAGAIN) return Napi::Number::New(env, -2);
  if (err == EINTR) return Napi::Number::New(env, 0);
  if (err != ENOSYS) {
    SysError(env, "futex_waitv", "", err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
#endif
  // Fallback for kernels without futex_waitv: wait on the first word for at most 1 ms so the
  // other words are re-checked soon.
  struct timespec rel = {0, static_cast<long>(ns < 1000000ULL ? ns : 1000000ULL)};
  long r = syscall(SYS_futex, reinterpret_cast<uint32_t*>(waiters[0].uaddr), FUTEX_WAIT, waiters[0].val, &rel, nullptr, 0);
  if (r == 0) return Napi::Number::New(env, 0);
  if (errno == EAGAIN) return Napi::Number::New(env, -2);
  return Napi::Number::New(env, -1);
}

// pinToCpus(cpus: number[]) pins the whole calling thread group's main thread (sched_setaffinity on
// pid 0 = the calling thread, which in Node is the main, JS thread).
Napi::Value PinToCpus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    ThrowType(env, "pinToCpus(cpus: number[])");
    return env.Undefined();
  }
  Napi::Array arr = info[0].As<Napi::Array>();
  if (arr.Length() == 0) {
    ThrowType(env, "pinToCpus needs at least one CPU");
    return env.Undefined();
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!IsNonNegativeInteger(v) || v.As<Napi::Number>().Uint32Value() >= CPU_SETSIZE) {
      ThrowType(env, "pinToCpus: every CPU must be an integer in [0, " + std::to_string(CPU_SETSIZE) + ")");
      return env.Undefined();
    }
    CPU_SET(v.As<Napi::Number>().Uint32Value(), &set);
  }
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    SysError(env, "sched_setaffinity", "", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return env.Undefined();
}

// currentCpus() -> number[]: the CPUs the calling thread may run on.
Napi::Value CurrentCpus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    SysError(env, "sched_getaffinity", "", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (CPU_ISSET(cpu, &set)) out.Set(n++, Napi::Number::New(env, cpu));
  }
  return out;
}

Napi::Value YieldCpu(const Napi::CallbackInfo& info) {
  sched_yield();
  return info.Env().Undefined();
}

// msync(buffer, byteOffset, length): MS_SYNC of the pages covering the range.
Napi::Value Msync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsArrayBuffer() || !IsNonNegativeInteger(info[1]) || !IsNonNegativeInteger(info[2])) {
    ThrowType(env, "msync(buffer: ArrayBuffer, byteOffset: integer, length: integer)");
    return env.Undefined();
  }
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  uint64_t off = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
  uint64_t len = static_cast<uint64_t>(info[2].As<Napi::Number>().DoubleValue());
  if (off + len > ab.ByteLength()) {
    ThrowType(env, "msync range [" + std::to_string(off) + ", " + std::to_string(off + len) + ") is outside the buffer");
    return env.Undefined();
  }
  static const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  uint64_t start = off & ~(page - 1);
  uint8_t* base = static_cast<uint8_t*>(ab.Data());
  if (len > 0 && ::msync(base + start, (off + len) - start, MS_SYNC) != 0) {
    SysError(env, "msync", "", errno).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// --- CRC32C (Castagnoli) ---
uint32_t g_crcTable[8][256];
bool g_hasSse42 = false;

void InitCrc() {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : (c >> 1);
    g_crcTable[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++) {
    for (int t = 1; t < 8; t++) g_crcTable[t][i] = (g_crcTable[t - 1][i] >> 8) ^ g_crcTable[0][g_crcTable[t - 1][i] & 0xFF];
  }
#if defined(__x86_64__)
  unsigned eax, ebx, ecx, edx;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) g_hasSse42 = (ecx & bit_SSE4_2) != 0;
#endif
}

uint32_t CrcTable(uint32_t crc, const uint8_t* p, size_t n) {
  while (n >= 8) {
    uint32_t lo, hi;
    memcpy(&lo, p, 4);
    memcpy(&hi, p + 4, 4);
    lo ^= crc;
    crc = g_crcTable[7][lo & 0xFF] ^ g_crcTable[6][(lo >> 8) & 0xFF] ^ g_crcTable[5][(lo >> 16) & 0xFF] ^
          g_crcTable[4][lo >> 24] ^ g_crcTable[3][hi & 0xFF] ^ g_crcTable[2][(hi >> 8) & 0xFF] ^
          g_crcTable[1][(hi >> 16) & 0xFF] ^ g_crcTable[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ g_crcTable[0][(crc ^ *p++) & 0xFF];
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t CrcHw(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}
#endif

// crc32c(bytes: TypedArray|ArrayBuffer, byteOffset, length, seed=0) -> uint32. Standard CRC32C
// (init and final xor 0xFFFFFFFF), so crc32c("123456789") == 0xE3069283.
Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !IsNonNegativeInteger(info[1]) || !IsNonNegativeInteger(info[2])) {
    ThrowType(env, "crc32c(bytes: Uint8Array|ArrayBuffer, byteOffset: integer, length: integer, seed?: uint32)");
    return env.Undefined();
  }
  const uint8_t* base = nullptr;
  size_t total = 0;
  if (info[0].IsArrayBuffer()) {
    Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
    base = static_cast<const uint8_t*>(ab.Data());
    total = ab.ByteLength();
  } else if (info[0].IsTypedArray()) {
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    base = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    total = ta.ByteLength();
  } else {
    ThrowType(env, "crc32c: bytes must be an ArrayBuffer or a typed array");
    return env.Undefined();
  }
  uint64_t off = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
  uint64_t len = static_cast<uint64_t>(info[2].As<Napi::Number>().DoubleValue());
  if (off + len > total) {
    ThrowType(env, "crc32c range [" + std::to_string(off) + ", " + std::to_string(off + len) + ") is outside the " +
                       std::to_string(total) + " bytes given");
    return env.Undefined();
  }
  uint32_t seed = 0;
  if (info.Length() >= 4 && info[3].IsNumber()) seed = info[3].As<Napi::Number>().Uint32Value();
  uint32_t crc = ~seed;
#if defined(__x86_64__)
  if (g_hasSse42) {
    crc = CrcHw(crc, base + off, len);
  } else {
    crc = CrcTable(crc, base + off, len);
  }
#else
  crc = CrcTable(crc, base + off, len);
#endif
  return Napi::Number::New(env, static_cast<double>(~crc));
}

Napi::Value HasHardwareCrc(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), g_hasSse42); }

// clockInto(out: Float64Array, index): out[index] = CLOCK_MONOTONIC ns, out[index+1] =
// CLOCK_REALTIME µs. Filling a caller-owned array avoids the BigInt that process.hrtime.bigint()
// allocates. Monotonic ns fits a double exactly for ~104 days of uptime; realtime is in µs, which
// fits exactly until the year 2255.
Napi::Value ClockInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !IsNonNegativeInteger(info[1])) {
    ThrowType(env, "clockInto(out: Float64Array, index: integer)");
    return env.Undefined();
  }
  Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
  uint32_t idx = info[1].As<Napi::Number>().Uint32Value();
  if (ta.TypedArrayType() != napi_float64_array || idx + 2 > ta.ElementLength()) {
    ThrowType(env, "clockInto: out must be a Float64Array with room for 2 values at index");
    return env.Undefined();
  }
  double* out = reinterpret_cast<double*>(static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset());
  struct timespec mono, real;
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_REALTIME, &real);
  out[idx] = static_cast<double>(mono.tv_sec) * 1e9 + static_cast<double>(mono.tv_nsec);
  out[idx + 1] = static_cast<double>(real.tv_sec) * 1e6 + static_cast<double>(real.tv_nsec / 1000);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitCrc();
  exports.Set("mapFile", Napi::Function::New(env, MapFile, "mapFile"));
  exports.Set("unlinkFile", Napi::Function::New(env, UnlinkFile, "unlinkFile"));
  exports.Set("futexWait", Napi::Function::New(env, FutexWait, "futexWait"));
  exports.Set("futexWaitMany", Napi::Function::New(env, FutexWaitMany, "futexWaitMany"));
  exports.Set("futexWake", Napi::Function::New(env, FutexWake, "futexWake"));
  exports.Set("pinToCpus", Napi::Function::New(env, PinToCpus, "pinToCpus"));
  exports.Set("currentCpus", Napi::Function::New(env, CurrentCpus, "currentCpus"));
  exports.Set("yieldCpu", Napi::Function::New(env, YieldCpu, "yieldCpu"));
  exports.Set("msync", Napi::Function::New(env, Msync, "msync"));
  exports.Set("crc32c", Napi::Function::New(env, Crc32c, "crc32c"));
  exports.Set("hasHardwareCrc", Napi::Function::New(env, HasHardwareCrc, "hasHardwareCrc"));
  exports.Set("clockInto", Napi::Function::New(env, ClockInto, "clockInto"));
  exports.Set("cacheLineBytes", Napi::Number::New(env, 64));
  return exports;
}

}  // namespace

NODE_API_MODULE(ims_native, Init)
