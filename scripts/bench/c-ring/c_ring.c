// The physical reference of the bus benchmark: a plain C single-producer single-consumer ring over
// the same ring file layout as bus/ring.ts, moving the same 64-byte messages with the same batching.
// It is what the hardware allows for this layout: no N-API, no JIT, release/acquire stores and
// loads instead of JS Atomics (sequentially consistent), one gating consumer slot and no sleeper
// bookkeeping (it always spins).
//
// Every offset and constant comes from ims_bench_layout.h, which the benchmark generates from
// bus/ring-layout.ts and scripts/bench/bus/bench-message.ts before compiling this file
// (cc -O2 -I <tmp>), so C and TS never spell the same offset twice.
//
//   c_ring produce RING SLOT BATCH WARM_MS MEASURE_MS DEADLINE_MS
//   c_ring consume RING SLOT POLL_LIMIT DEADLINE_MS
//   c_ring ping OUT_RING OUT_SLOT IN_RING IN_SLOT WARM SAMPLES SAMPLES_FILE DEADLINE_MS
//   c_ring pong IN_RING IN_SLOT OUT_RING OUT_SLOT POLL_LIMIT DEADLINE_MS
//   c_ring solo RING SLOT BATCH POLL_LIMIT ROUNDS BATCHES DEADLINE_MS
//
// SLOT is the consumer slot the orchestrator registered: the consumer commits its position there
// and the producer of that ring gates on it.
//
// Protocol with the orchestrator (as the Node children): print READY, wait for one byte on stdin,
// run, print "RESULT {json}". It dies with its parent (PR_SET_PDEATHSIG) and at its deadline.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ims_bench_layout.h"

#if IMS_BENCH_MESSAGE_BYTES != IMS_RECORD_HEADER_BYTES + IMS_BENCH_PAYLOAD_BYTES
#error "ims_bench_layout.h: message size does not add up"
#endif

#define LOAD_ACQUIRE(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_RELEASE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define CLOCK_EVERY_BATCHES 16
#define DEADLINE_EVERY_POLLS (1u << 20)

typedef struct {
  const char *path;
  uint8_t *base;
  size_t bytes;
  uint8_t *data;
  uint32_t capacity;
  uint32_t mask;
  volatile uint32_t *tail;
} ring_t;

typedef struct {
  ring_t *ring;
  uint32_t claimed;
  uint32_t published;
  uint32_t cached_min;
  uint32_t batch_limit;
  volatile uint32_t *gate; /* the one gating consumer's position */
} producer_t;

typedef struct {
  ring_t *ring;
  uint32_t pos;
  volatile uint32_t *position;
} consumer_t;

static uint64_t g_deadline_ns;

static void die(const char *what) {
  fprintf(stderr, "c_ring: %s: %s\n", what, errno ? strerror(errno) : "failed");
  exit(1);
}

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void check_deadline(const char *what) {
  if (mono_ns() > g_deadline_ns) {
    fprintf(stderr, "c_ring: %s did not finish before its deadline; giving up\n", what);
    exit(4);
  }
}

static uint32_t u32_at(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static void ring_open(ring_t *r, const char *path) {
  int fd = open(path, O_RDWR);
  if (fd < 0) die(path);
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat");
  r->path = path;
  r->bytes = (size_t)st.st_size;
  r->base = mmap(NULL, r->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (r->base == MAP_FAILED) die("mmap");
  close(fd);
  errno = 0;
  if (u32_at(r->base + IMS_META_MAGIC) != IMS_RING_MAGIC || u32_at(r->base + IMS_META_LAYOUT_VERSION) != IMS_RING_LAYOUT_VERSION) {
    die("not an IMS ring of this layout version");
  }
  r->capacity = u32_at(r->base + IMS_META_CAPACITY_BYTES);
  uint32_t data_offset = u32_at(r->base + IMS_META_DATA_OFFSET);
  if ((r->capacity & (r->capacity - 1)) != 0 || (size_t)data_offset + r->capacity != r->bytes) die("ring geometry does not match the file size");
  r->mask = r->capacity - 1;
  r->data = r->base + data_offset;
  r->tail = (volatile uint32_t *)(r->base + IMS_TAIL_OFFSET);
}

static volatile uint32_t *slot_position(ring_t *r, uint32_t slot) {
  uint32_t max_consumers = u32_at(r->base + IMS_META_MAX_CONSUMERS);
  errno = 0;
  if (slot >= max_consumers) die("consumer slot out of range");
  return (volatile uint32_t *)(r->base + IMS_CONSUMERS_OFFSET + slot * IMS_CONSUMER_SLOT_BYTES + IMS_SLOT_POSITION);
}

static void producer_init(producer_t *p, ring_t *r, uint32_t slot) {
  p->ring = r;
  p->published = p->claimed = LOAD_ACQUIRE(r->tail);
  p->gate = slot_position(r, slot);
  p->cached_min = LOAD_ACQUIRE(p->gate);
  p->batch_limit = r->capacity / 4;
}

static uint32_t align_record(uint32_t length) {
  return (length + (IMS_RECORD_ALIGNMENT - 1)) & ~(uint32_t)(IMS_RECORD_ALIGNMENT - 1);
}

/* Claims one message record and writes its header; NULL when back-pressured. */
static uint8_t *try_claim(producer_t *p, uint16_t type_id) {
  ring_t *r = p->ring;
  const uint32_t length = IMS_BENCH_MESSAGE_BYTES;
  const uint32_t aligned = align_record(length);
  uint32_t index = p->claimed & r->mask;
  uint32_t to_end = r->capacity - index;
  uint32_t needed = aligned <= to_end ? aligned : to_end + aligned;
  uint32_t end = p->claimed + needed;
  if (end - p->published > p->batch_limit) return NULL;
  if (end - p->cached_min > r->capacity) {
    p->cached_min = LOAD_ACQUIRE(p->gate);
    if (end - p->cached_min > r->capacity) return NULL;
  }
  uint8_t *rec = r->data + index;
  if (aligned > to_end) {
    uint32_t pad_len = to_end;
    uint32_t pad_type = IMS_PADDING_TYPE_ID;
    memcpy(rec, &pad_len, 4);
    memcpy(rec + 4, &pad_type, 4);
    rec = r->data;
  }
  uint32_t type_word = (uint32_t)type_id | ((uint32_t)IMS_BENCH_VERSION << 16);
  memcpy(rec, &length, 4);
  memcpy(rec + 4, &type_word, 4);
  p->claimed = end;
  return rec + IMS_RECORD_HEADER_BYTES;
}

static void commit(producer_t *p) {
  if (p->claimed == p->published) return;
  STORE_RELEASE(p->ring->tail, p->claimed);
  p->published = p->claimed;
}

/*
 * The same stores as the JS side (bench-message.ts writePayload): seq, filler (8-byte stores where
 * the words pair up), check. Written straight into the ring: assembling the payload on the stack
 * and copying it made the 16-byte loads of the copy wait on the 4-byte stores before them
 * (a store-forwarding stall that doubled the cost of a message).
 */
static void write_payload(uint8_t *payload, uint32_t seq) {
  const uint32_t filler = IMS_BENCH_FILLER_WORD;
  const uint64_t filler_pair = ((uint64_t)filler << 32) | filler;
  const uint32_t check = seq ^ IMS_BENCH_CHECK_XOR;
  memcpy(payload + IMS_BENCH_SEQ, &seq, 4);
  memcpy(payload + 4, &filler, 4);
  for (unsigned at = 8; at < IMS_BENCH_CHECK - 4; at += 8) memcpy(payload + at, &filler_pair, 8);
  memcpy(payload + IMS_BENCH_CHECK - 4, &filler, 4);
  memcpy(payload + IMS_BENCH_CHECK, &check, 4);
}

#if IMS_BENCH_SEQ != 0 || IMS_BENCH_CHECK != IMS_BENCH_PAYLOAD_BYTES - 4 || IMS_BENCH_CHECK % 8 != 4
#error "write_payload assumes seq first and the check word last, at an offset of 4 mod 8"
#endif

static int payload_intact(const uint8_t *payload, uint32_t seq) {
  return u32_at(payload + IMS_BENCH_SEQ) == seq && u32_at(payload + IMS_BENCH_CHECK) == (seq ^ IMS_BENCH_CHECK_XOR);
}

static void consumer_init(consumer_t *c, ring_t *r, uint32_t slot) {
  c->ring = r;
  c->position = slot_position(r, slot);
  c->pos = LOAD_ACQUIRE(c->position);
}

typedef struct {
  uint64_t received, measured, errors;
  uint64_t measure_start_ns, end_ns;
  uint32_t expected;
  int done;
} tally_t;

/* Handles up to `limit` records; commits the position once for the batch. Returns records handled. */
static uint32_t poll_tally(consumer_t *c, tally_t *t, uint32_t limit) {
  ring_t *r = c->ring;
  uint32_t tail = LOAD_ACQUIRE(r->tail);
  uint32_t pos = c->pos;
  if (pos == tail) return 0;
  uint32_t count = 0;
  while (pos != tail && count < limit) {
    uint32_t index = pos & r->mask;
    const uint8_t *rec = r->data + index;
    uint32_t length = u32_at(rec);
    uint16_t type_id = (uint16_t)u32_at(rec + 4);
    if (length < IMS_RECORD_HEADER_BYTES || index + length > r->capacity) {
      errno = 0;
      die("corrupt record");
    }
    if (type_id != IMS_PADDING_TYPE_ID) {
      const uint8_t *payload = rec + IMS_RECORD_HEADER_BYTES;
      if (length != IMS_BENCH_MESSAGE_BYTES || !payload_intact(payload, t->expected)) t->errors++;
      t->expected = u32_at(payload + IMS_BENCH_SEQ) + 1;
      t->received++;
      if (type_id == IMS_BENCH_TYPE_MEASURE) {
        if (t->measured++ == 0) t->measure_start_ns = mono_ns();
      } else if (type_id == IMS_BENCH_TYPE_END) {
        t->end_ns = mono_ns();
        t->done = 1;
      }
      count++;
    }
    pos += align_record(length);
  }
  c->pos = pos;
  STORE_RELEASE(c->position, pos);
  return count;
}

static void ready_and_wait_for_go(void) {
  printf("READY\n");
  fflush(stdout);
  char go;
  ssize_t n;
  do n = read(0, &go, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1) exit(3); /* the orchestrator went away */
}

static void set_deadline(const char *ms) { g_deadline_ns = mono_ns() + strtoull(ms, NULL, 10) * 1000000ull; }

/* Claims and fills up to `batch` messages, then commits them; returns how many. */
static uint32_t produce_batch(producer_t *p, uint32_t batch, uint16_t type_id, uint32_t *seq) {
  uint32_t n = 0;
  while (n < batch) {
    uint8_t *payload = try_claim(p, type_id);
    if (payload == NULL) break;
    write_payload(payload, (*seq)++);
    n++;
  }
  commit(p);
  return n;
}

static int produce(char **argv) {
  ring_t ring;
  producer_t p;
  ring_open(&ring, argv[0]);
  producer_init(&p, &ring, (uint32_t)atoi(argv[1]));
  uint32_t batch = (uint32_t)atoi(argv[2]);
  uint64_t warm_ns = strtoull(argv[3], NULL, 10) * 1000000ull;
  uint64_t measure_ns = strtoull(argv[4], NULL, 10) * 1000000ull;
  ready_and_wait_for_go();
  set_deadline(argv[5]);
  uint64_t measure_at = mono_ns() + warm_ns;
  uint64_t end_at = measure_at + measure_ns;
  uint16_t type_id = IMS_BENCH_TYPE_WARM;
  uint32_t seq = 0;
  uint64_t full_batches = 0, back_pressured = 0;
  for (uint64_t iteration = 1;; iteration++) {
    uint32_t n = produce_batch(&p, batch, type_id, &seq);
    if (n == batch) full_batches++;
    else back_pressured++;
    if (iteration % CLOCK_EVERY_BATCHES == 0) {
      uint64_t now = mono_ns();
      /* END only once MEASURE records went out (as in ring-child.ts). */
      if (now >= end_at && type_id == IMS_BENCH_TYPE_MEASURE) break;
      if (now >= measure_at) type_id = IMS_BENCH_TYPE_MEASURE;
      check_deadline("produce");
    }
  }
  for (uint64_t spins = 1;; spins++) {
    uint8_t *payload = try_claim(&p, IMS_BENCH_TYPE_END);
    if (payload != NULL) {
      write_payload(payload, seq);
      break;
    }
    if (spins % DEADLINE_EVERY_POLLS == 0) check_deadline("produce END");
  }
  commit(&p);
  printf("RESULT {\"sent\":%u,\"fullBatches\":%llu,\"backPressured\":%llu}\n", seq + 1, (unsigned long long)full_batches,
         (unsigned long long)back_pressured);
  return 0;
}

static int consume(char **argv) {
  ring_t ring;
  consumer_t c;
  ring_open(&ring, argv[0]);
  consumer_init(&c, &ring, (uint32_t)atoi(argv[1]));
  uint32_t limit = (uint32_t)atoi(argv[2]);
  tally_t t;
  memset(&t, 0, sizeof t);
  ready_and_wait_for_go();
  set_deadline(argv[3]);
  uint64_t polls = 0, empty = 0;
  while (!t.done) {
    uint32_t n = poll_tally(&c, &t, limit);
    polls++;
    if (n == 0 && ++empty % DEADLINE_EVERY_POLLS == 0) check_deadline("consume");
  }
  printf("RESULT {\"received\":%llu,\"measured\":%llu,\"measureNs\":%llu,\"errors\":%llu,\"polls\":%llu,\"emptyPolls\":%llu}\n",
         (unsigned long long)t.received, (unsigned long long)t.measured, (unsigned long long)(t.end_ns - t.measure_start_ns),
         (unsigned long long)t.errors, (unsigned long long)polls, (unsigned long long)empty);
  return 0;
}

static int ping(char **argv) {
  ring_t out, in;
  producer_t p;
  consumer_t c;
  ring_open(&out, argv[0]);
  producer_init(&p, &out, (uint32_t)atoi(argv[1]));
  ring_open(&in, argv[2]);
  consumer_init(&c, &in, (uint32_t)atoi(argv[3]));
  uint32_t warm = (uint32_t)atoi(argv[4]);
  uint32_t count = (uint32_t)atoi(argv[5]);
  double *samples = calloc(count ? count : 1, sizeof(double));
  if (samples == NULL) die("calloc");
  ready_and_wait_for_go();
  set_deadline(argv[7]);
  uint64_t errors = 0;
  for (uint32_t i = 0; i < warm + count; i++) {
    uint64_t sent_ns = mono_ns();
    uint8_t *payload = try_claim(&p, IMS_BENCH_TYPE_PROBE);
    if (payload == NULL) {
      errno = 0;
      die("ping: out ring full with one probe in flight");
    }
    write_payload(payload, i);
    double sent = (double)sent_ns;
    memcpy(payload + IMS_BENCH_SEND_NS, &sent, 8);
    commit(&p);
    for (int answered = 0; !answered;) {
      uint32_t tail;
      for (uint64_t spins = 1; (tail = LOAD_ACQUIRE(in.tail)) == c.pos; spins++) {
        if (spins % DEADLINE_EVERY_POLLS == 0) check_deadline("ping");
      }
      while (c.pos != tail) {
        const uint8_t *rec = in.data + (c.pos & in.mask);
        uint32_t length = u32_at(rec);
        if ((uint16_t)u32_at(rec + 4) != IMS_PADDING_TYPE_ID) {
          if (length != IMS_BENCH_MESSAGE_BYTES || !payload_intact(rec + IMS_RECORD_HEADER_BYTES, i)) errors++;
          answered = 1;
        }
        c.pos += align_record(length);
      }
      STORE_RELEASE(c.position, c.pos);
    }
    uint64_t rtt = mono_ns() - sent_ns;
    if (i >= warm) samples[i - warm] = (double)rtt;
  }
  uint8_t *payload = try_claim(&p, IMS_BENCH_TYPE_END);
  if (payload == NULL) die("ping: no room for END");
  write_payload(payload, warm + count);
  commit(&p);
  FILE *f = fopen(argv[6], "wb");
  if (f == NULL || fwrite(samples, sizeof(double), count, f) != count || fclose(f) != 0) die(argv[6]);
  printf("RESULT {\"samples\":%u,\"errors\":%llu}\n", count, (unsigned long long)errors);
  return 0;
}

static int pong(char **argv) {
  ring_t in, out;
  consumer_t c;
  producer_t p;
  ring_open(&in, argv[0]);
  consumer_init(&c, &in, (uint32_t)atoi(argv[1]));
  ring_open(&out, argv[2]);
  producer_init(&p, &out, (uint32_t)atoi(argv[3]));
  uint32_t limit = (uint32_t)atoi(argv[4]);
  ready_and_wait_for_go();
  set_deadline(argv[5]);
  int done = 0;
  for (uint64_t spins = 1; !done; spins++) {
    uint32_t tail = LOAD_ACQUIRE(in.tail);
    uint32_t handled = 0;
    while (c.pos != tail && handled < limit) {
      const uint8_t *rec = in.data + (c.pos & in.mask);
      uint32_t length = u32_at(rec);
      uint16_t type_id = (uint16_t)u32_at(rec + 4);
      if (type_id == IMS_BENCH_TYPE_END) done = 1;
      else if (type_id != IMS_PADDING_TYPE_ID) {
        uint8_t *payload = try_claim(&p, type_id);
        if (payload == NULL) die("pong: back ring full");
        memcpy(payload, rec + IMS_RECORD_HEADER_BYTES, IMS_BENCH_PAYLOAD_BYTES);
      }
      c.pos += align_record(length);
      handled++;
    }
    if (handled > 0) {
      STORE_RELEASE(c.position, c.pos);
      commit(&p);
    } else if (spins % DEADLINE_EVERY_POLLS == 0) {
      check_deadline("pong");
    }
  }
  printf("RESULT {\"errors\":0}\n");
  return 0;
}

static double cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * Producer and consumer in one thread, ring in cache: CPU time per message for the producer alone
 * (the consumer's position follows the tail unread) and for producer + consumer, best of ROUNDS
 * rounds of BATCHES batches. The twin of `solo` in ring-child.ts.
 */
static int solo(char **argv) {
  ring_t ring;
  producer_t p;
  consumer_t c;
  ring_open(&ring, argv[0]);
  uint32_t slot = (uint32_t)atoi(argv[1]);
  producer_init(&p, &ring, slot);
  consumer_init(&c, &ring, slot);
  uint32_t batch = (uint32_t)atoi(argv[2]);
  uint32_t limit = (uint32_t)atoi(argv[3]);
  int rounds = atoi(argv[4]);
  int batches = atoi(argv[5]);
  tally_t t;
  memset(&t, 0, sizeof t);
  ready_and_wait_for_go();
  set_deadline(argv[6]);
  uint32_t seq = 0;
  double producer_ns = 1e30, both_ns = 1e30;
  for (int r = 0; r < rounds; r++) {
    double start = cpu_ns();
    uint64_t messages = 0;
    for (int b = 0; b < batches; b++) {
      messages += produce_batch(&p, batch, IMS_BENCH_TYPE_WARM, &seq);
      c.pos = p.published;
      STORE_RELEASE(c.position, c.pos);
    }
    double ns = (cpu_ns() - start) / (double)messages;
    if (ns < producer_ns) producer_ns = ns;
    t.expected = seq;
    start = cpu_ns();
    messages = 0;
    for (int b = 0; b < batches; b++) {
      uint32_t n = produce_batch(&p, batch, IMS_BENCH_TYPE_WARM, &seq);
      for (uint32_t got = 0; got < n;) got += poll_tally(&c, &t, limit);
      messages += n;
    }
    ns = (cpu_ns() - start) / (double)messages;
    if (ns < both_ns) both_ns = ns;
    check_deadline("solo");
  }
  printf("RESULT {\"producerNs\":%.3f,\"bothNs\":%.3f,\"errors\":%llu}\n", producer_ns, both_ns, (unsigned long long)t.errors);
  return 0;
}

int main(int argc, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 3;
  static const struct {
    const char *name;
    int args;
    int (*run)(char **);
  } modes[] = {{"produce", 6, produce}, {"consume", 4, consume}, {"ping", 8, ping}, {"pong", 6, pong}, {"solo", 7, solo}};
  for (size_t m = 0; argc >= 2 && m < sizeof modes / sizeof modes[0]; m++) {
    if (strcmp(argv[1], modes[m].name) != 0) continue;
    if (argc - 2 != modes[m].args) {
      fprintf(stderr, "c_ring %s: expected %d arguments, got %d (see the usage at the top of c_ring.c)\n", modes[m].name, modes[m].args, argc - 2);
      return 2;
    }
    int rc = modes[m].run(argv + 2);
    fflush(stdout);
    return rc;
  }
  fprintf(stderr, "c_ring: mode must be produce, consume, ping, pong or solo\n");
  return 2;
}
