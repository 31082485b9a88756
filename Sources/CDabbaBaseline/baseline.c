/*
 * The raw librdkafka baseline of `dabba bench`: the producer and consumer loops a C programmer would write from
 * librdkafka's own examples (examples/producer.c, examples/consumer.c), with the same properties Dabba sets by
 * default, so that the comparison measures Dabba's overhead and nothing else.
 */
#include "baseline.h"

#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Dabba's defaults, kept in step by hand with Sources/DabbaKafka/Configuration/ClientConfiguration.swift. */
static const char *const client_properties[][2] = {
    {"client.id", "dabba-baseline"},
    {"socket.connection.setup.timeout.ms", "10000"},
    {"log_level", "4"},
};

/* ProducerConfiguration.swift's defaults (no transactional id). */
static const char *const producer_properties[][2] = {
    {"enable.idempotence", "true"},
    {"acks", "all"},
    {"partitioner", "murmur2_random"},
    {"compression.codec", "none"},
    {"linger.ms", "5"},
    {"message.timeout.ms", "300000"},
    {"queue.buffering.max.messages", "100000"},
    {"queue.buffering.max.kbytes", "1048576"},
    {"message.max.bytes", "1000000"},
};

/*
 * ConsumerConfiguration.swift's defaults, except the session timeout (the benchmark's 6 s, BenchTarget.sessionTimeoutMilliseconds,
 * as Dabba's phases use) and offset storing: Dabba stores each offset the application marks
 * processed (enable.auto.offset.store=false plus rd_kafka_offset_store); the idiomatic C consumer keeps librdkafka's
 * default automatic store, its equivalent for a loop that has finished with a message when it polls the next.
 */
static const char *const consumer_properties[][2] = {
    {"enable.auto.commit", "true"},
    {"auto.commit.interval.ms", "5000"},
    {"auto.offset.reset", "earliest"},
    {"session.timeout.ms", "6000"},
    {"max.poll.interval.ms", "300000"},
    {"partition.assignment.strategy", "range,roundrobin"},
    {"isolation.level", "read_committed"},
    {"queued.min.messages", "1000000"},
    {"queued.max.messages.kbytes", "65536"},
    {"fetch.error.backoff.ms", "100"},
};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

static void fail(char *err, size_t errlen, const char *format, ...) {
    va_list arguments;
    if (!err || errlen == 0) return;
    va_start(arguments, format);
    vsnprintf(err, errlen, format, arguments);
    va_end(arguments);
}

static double now_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static int set_properties(rd_kafka_conf_t *conf, const char *const (*properties)[2], size_t count, char *err,
                          size_t errlen) {
    char reason[512];
    for (size_t i = 0; i < count; i++) {
        if (rd_kafka_conf_set(conf, properties[i][0], properties[i][1], reason, sizeof(reason)) != RD_KAFKA_CONF_OK) {
            fail(err, errlen, "invalid property %s=%s: %s", properties[i][0], properties[i][1], reason);
            return -1;
        }
    }
    return 0;
}

/* A configuration with the client properties, the given kind's properties and the bootstrap servers. */
static rd_kafka_conf_t *make_conf(const char *bootstrap, const char *const (*properties)[2], size_t count, char *err,
                                  size_t errlen) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *const bootstrap_property[1][2] = {{"bootstrap.servers", bootstrap}};
    if (set_properties(conf, bootstrap_property, 1, err, errlen) != 0 ||
        set_properties(conf, client_properties, COUNT_OF(client_properties), err, errlen) != 0 ||
        set_properties(conf, properties, count, err, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

/* ---- Producer ---- */

struct delivery_counts {
    long delivered;
    long failed;
    rd_kafka_resp_err_t first_error;
};

/* Runs on the thread that serves the queue (rd_kafka_poll / rd_kafka_flush below): no locking needed. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
    struct delivery_counts *counts = opaque;
    (void)rk;
    if (message->err) {
        if (counts->failed++ == 0) counts->first_error = message->err;
    } else {
        counts->delivered++;
    }
}

/* A producer with Dabba's producer properties (and `linger_ms` when not negative) that counts delivery reports
 * into `counts`, with a handle on `topic`. Returns NULL after writing the reason into `err`. */
static rd_kafka_t *make_producer(const char *bootstrap, const char *topic, int linger_ms, struct delivery_counts *counts,
                                 rd_kafka_topic_t **rkt, char *err, size_t errlen) {
    rd_kafka_conf_t *conf = make_conf(bootstrap, producer_properties, COUNT_OF(producer_properties), err, errlen);
    if (!conf) return NULL;
    if (linger_ms >= 0) {
        char linger[16];
        snprintf(linger, sizeof(linger), "%d", linger_ms);
        const char *const linger_property[1][2] = {{"linger.ms", linger}};
        if (set_properties(conf, linger_property, 1, err, errlen) != 0) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, counts);
    char reason[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof(reason));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fail(err, errlen, "rd_kafka_new: %s", reason);
        return NULL;
    }
    *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (!*rkt) {
        fail(err, errlen, "rd_kafka_topic_new: %s", rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

/* Warm-up, not timed: one acknowledged message makes the producer ready (connection, metadata, producer id), which
 * takes anywhere from a few milliseconds to over a second on the embedded broker. Returns 0 when it was delivered. */
static int warm_up(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const char *value, size_t size,
                   struct delivery_counts *counts, char *err, size_t errlen) {
    rd_kafka_resp_err_t warmed = rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_KEY("warm-up", 7),
                                                   RD_KAFKA_V_VALUE((void *)value, size),
                                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (warmed == RD_KAFKA_RESP_ERR_NO_ERROR) warmed = rd_kafka_flush(rk, 30 * 1000);
    if (warmed != RD_KAFKA_RESP_ERR_NO_ERROR || counts->delivered != 1) {
        fail(err, errlen, "warm-up message not delivered: %s",
             rd_kafka_err2str(warmed ? warmed : counts->first_error));
        return -1;
    }
    counts->delivered = 0;
    return 0;
}

/* Flushes, stops the clock started at `start` and checks that all `count` messages were acknowledged. Returns
 * messages per second, or -1 after writing the reason into `err`. */
static double finish_producing(rd_kafka_t *rk, double start, long count, const struct delivery_counts *counts,
                               char *err, size_t errlen) {
    rd_kafka_resp_err_t flushed = rd_kafka_flush(rk, 120 * 1000);
    double elapsed = now_seconds() - start;
    if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail(err, errlen, "rd_kafka_flush: %s (%d messages in flight)", rd_kafka_err2str(flushed),
             rd_kafka_outq_len(rk));
    } else if (counts->failed > 0) {
        fail(err, errlen, "%ld messages failed, first: %s", counts->failed, rd_kafka_err2str(counts->first_error));
    } else if (counts->delivered != count) {
        fail(err, errlen, "%ld of %ld messages acknowledged", counts->delivered, count);
    } else {
        return (double)count / elapsed;
    }
    return -1;
}

double dabba_baseline_produce(const char *bootstrap, const char *topic, long count, int size, int keys, char *err,
                              size_t errlen) {
    if (count <= 0 || size < 0 || keys <= 0) {
        fail(err, errlen, "invalid workload: count %ld, size %d, keys %d", count, size, keys);
        return -1;
    }
    struct delivery_counts counts = {0, 0, RD_KAFKA_RESP_ERR_NO_ERROR};
    rd_kafka_topic_t *rkt = NULL;
    rd_kafka_t *rk = make_producer(bootstrap, topic, -1, &counts, &rkt, err, errlen);
    if (!rk) return -1;

    /* The workload, prepared before the clock starts (the Swift side precomputes its keys too). */
    char *value = malloc(size > 0 ? (size_t)size : 1);
    char (*key_text)[16] = malloc((size_t)keys * sizeof(*key_text));
    int *key_length = malloc((size_t)keys * sizeof(int));
    double result = -1;
    if (!value || !key_text || !key_length) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    memset(value, 'x', (size_t)size);
    for (int k = 0; k < keys; k++) key_length[k] = snprintf(key_text[k], sizeof(key_text[k]), "key-%d", k);
    if (warm_up(rk, rkt, value, (size_t)size, &counts, err, errlen) != 0) goto done;

    double start = now_seconds();
    for (long i = 0; i < count; i++) {
        int k = (int)(i % keys);
        rd_kafka_resp_err_t code;
        for (;;) {
            code = rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_KEY(key_text[k], (size_t)key_length[k]),
                                     RD_KAFKA_V_VALUE(value, (size_t)size),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
            /* The local queue is full: serve delivery reports, which makes room, then retry. */
            rd_kafka_poll(rk, 10);
        }
        if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fail(err, errlen, "rd_kafka_producev: %s", rd_kafka_err2str(code));
            goto done;
        }
    }
    result = finish_producing(rk, start, count, &counts, err, errlen);

done:
    free(value);
    free(key_text);
    free(key_length);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return result;
}

/* ---- Producer of CloudEvents records ---- */

/* SplitMix64: the generator behind Dabba's event ids (EventID.swift). */
static uint64_t splitmix_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* An RFC 9562 version 7 UUID in lowercase text (36 bytes, no terminator), as EventID.make() writes it. */
static void write_uuid_v7(char *out, uint64_t milliseconds, uint64_t *sequence, uint64_t seed) {
    static const char hex[] = "0123456789abcdef";
    *sequence += 0x9E3779B97F4A7C15ULL;
    uint64_t random = splitmix_mix(*sequence + seed);
    uint64_t extra = splitmix_mix(random ^ 0xD1B54A32D192ED03ULL);
    uint64_t high = (milliseconds << 16) | 0x7000 | (random & 0x0FFF);
    uint64_t low = (extra & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
    int position = 0;
    for (int nibble = 15; nibble >= 0; nibble--) {
        if (position == 8 || position == 13) out[position++] = '-';
        out[position++] = hex[(high >> (nibble * 4)) & 0xF];
    }
    out[position++] = '-';
    for (int nibble = 15; nibble >= 0; nibble--) {
        if (position == 23) out[position++] = '-';
        out[position++] = hex[(low >> (nibble * 4)) & 0xF];
    }
}

/* RFC 3339 UTC with milliseconds (24 bytes, no terminator); the date and time of day are formatted once per second. */
struct time_text {
    time_t second;
    char text[24];
};

static void write_time(struct time_text *cache, const struct timespec *now) {
    if (now->tv_sec != cache->second) {
        struct tm parts;
        gmtime_r(&now->tv_sec, &parts);
        char formatted[32];
        snprintf(formatted, sizeof(formatted), "%04d-%02d-%02dT%02d:%02d:%02d.", parts.tm_year + 1900,
                 parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
        memcpy(cache->text, formatted, 20);
        cache->second = now->tv_sec;
    }
    int millisecond = (int)(now->tv_nsec / 1000000);
    cache->text[20] = (char)('0' + millisecond / 100);
    cache->text[21] = (char)('0' + millisecond / 10 % 10);
    cache->text[22] = (char)('0' + millisecond % 10);
    cache->text[23] = 'Z';
}

/* Appends a decimal number; returns the new end. */
static char *append_number(char *out, long value) {
    char digits[24];
    int count = 0;
    unsigned long magnitude = value < 0 ? (unsigned long)(-value) : (unsigned long)value;
    do {
        digits[count++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude > 0);
    if (value < 0) *out++ = '-';
    while (count > 0) *out++ = digits[--count];
    return out;
}

static char *append_text(char *out, const char *text, size_t length) {
    memcpy(out, text, length);
    return out + length;
}

#define APPEND_LITERAL(out, literal) append_text(out, literal, sizeof(literal) - 1)

/* The bench event's payload as Dabba's JSON codec writes it (keys sorted): {"amount":A,"key":"K","sequence":S}. */
static char *append_payload(char *out, long amount, const char *key, size_t key_length, long sequence) {
    out = APPEND_LITERAL(out, "{\"amount\":");
    out = append_number(out, amount);
    out = APPEND_LITERAL(out, ",\"key\":\"");
    out = append_text(out, key, key_length);
    out = APPEND_LITERAL(out, "\",\"sequence\":");
    out = append_number(out, sequence);
    *out++ = '}';
    return out;
}

#define BENCH_SOURCE "/dabba-bench"
#define BENCH_TYPE "bench.order.placed"
#define BENCH_SCHEMA "urn:dabba:schema:bench.order.placed:1"

double dabba_baseline_produce_events(const char *bootstrap, const char *topic, long count, int keys, int linger_ms,
                                     int structured, char *err, size_t errlen) {
    if (count <= 0 || keys <= 0 || linger_ms < 0) {
        fail(err, errlen, "invalid workload: count %ld, keys %d, linger %d ms", count, keys, linger_ms);
        return -1;
    }
    struct delivery_counts counts = {0, 0, RD_KAFKA_RESP_ERR_NO_ERROR};
    rd_kafka_topic_t *rkt = NULL;
    rd_kafka_t *rk = make_producer(bootstrap, topic, linger_ms, &counts, &rkt, err, errlen);
    if (!rk) return -1;
    char (*key_text)[16] = malloc((size_t)keys * sizeof(*key_text));
    int *key_length = malloc((size_t)keys * sizeof(int));
    double result = -1;
    if (!key_text || !key_length) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    for (int k = 0; k < keys; k++) key_length[k] = snprintf(key_text[k], sizeof(key_text[k]), "key-%d", k);
    if (warm_up(rk, rkt, "{}", 2, &counts, err, errlen) != 0) goto done;

    uint64_t seed = (uint64_t)time(NULL) * 0x2545F4914F6CDD1DULL;
    uint64_t sequence = 0;
    struct time_text time_cache = {(time_t)-1, {0}};

    double start = now_seconds();
    for (long i = 0; i < count; i++) {
        int k = (int)(i % keys);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        char id[36];
        write_uuid_v7(id, (uint64_t)now.tv_sec * 1000 + (uint64_t)(now.tv_nsec / 1000000), &sequence, seed);
        write_time(&time_cache, &now);
        char value[512];
        char *end = value;
        rd_kafka_headers_t *headers;
        if (structured) {
            /* Structured mode: the envelope in the JSON value, one header. */
            headers = rd_kafka_headers_new(1);
            rd_kafka_header_add(headers, "content-type", 12, "application/cloudevents+json", 28);
            end = APPEND_LITERAL(end, "{\"specversion\":\"1.0\",\"id\":\"");
            end = append_text(end, id, 36);
            end = APPEND_LITERAL(end, "\",\"source\":\"" BENCH_SOURCE "\",\"type\":\"" BENCH_TYPE "\",\"time\":\"");
            end = append_text(end, time_cache.text, 24);
            end = APPEND_LITERAL(end, "\",\"datacontenttype\":\"application/json\",\"dataschema\":\"" BENCH_SCHEMA
                                      "\",\"correlationid\":\"");
            end = append_text(end, id, 36);
            end = APPEND_LITERAL(end, "\",\"data\":");
            end = append_payload(end, i % 997, key_text[k], (size_t)key_length[k], i);
            *end++ = '}';
        } else {
            /* Binary mode: the envelope in headers, as EventEnvelope.binaryHeaders writes them. */
            headers = rd_kafka_headers_new(8);
            rd_kafka_header_add(headers, "ce_specversion", 14, "1.0", 3);
            rd_kafka_header_add(headers, "ce_id", 5, id, 36);
            rd_kafka_header_add(headers, "ce_source", 9, BENCH_SOURCE, sizeof(BENCH_SOURCE) - 1);
            rd_kafka_header_add(headers, "ce_type", 7, BENCH_TYPE, sizeof(BENCH_TYPE) - 1);
            rd_kafka_header_add(headers, "ce_time", 7, time_cache.text, 24);
            rd_kafka_header_add(headers, "ce_dataschema", 13, BENCH_SCHEMA, sizeof(BENCH_SCHEMA) - 1);
            rd_kafka_header_add(headers, "content-type", 12, "application/json", 16);
            rd_kafka_header_add(headers, "ce_correlationid", 16, id, 36);
            end = append_payload(end, i % 997, key_text[k], (size_t)key_length[k], i);
        }
        rd_kafka_resp_err_t code;
        for (;;) {
            code = rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_KEY(key_text[k], (size_t)key_length[k]),
                                     RD_KAFKA_V_VALUE(value, (size_t)(end - value)),
                                     RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                     RD_KAFKA_V_END);
            if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
            rd_kafka_poll(rk, 10);
        }
        if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
            /* On failure the headers stay ours. */
            rd_kafka_headers_destroy(headers);
            fail(err, errlen, "rd_kafka_producev: %s", rd_kafka_err2str(code));
            goto done;
        }
    }
    result = finish_producing(rk, start, count, &counts, err, errlen);

done:
    free(key_text);
    free(key_length);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return result;
}

/* ---- Consumer ---- */

/* Reads every header of a message the way a CloudEvents consumer must: parsed by librdkafka, each name and value
 * visited. Returns the bytes seen (so that the work is not optimized away). */
static long long read_headers(rd_kafka_message_t *message) {
    rd_kafka_headers_t *headers = NULL;
    if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR || !headers) return 0;
    long long bytes = 0;
    const char *name;
    const void *value;
    size_t value_size;
    for (size_t index = 0; rd_kafka_header_get_all(headers, index, &name, &value, &value_size) ==
                           RD_KAFKA_RESP_ERR_NO_ERROR;
         index++) {
        bytes += (long long)strlen(name) + (long long)value_size;
    }
    return bytes;
}

static double consume(const char *bootstrap, const char *topic, const char *group, long count, int size,
                      int with_headers, int idle_timeout_ms, char *err, size_t errlen) {
    if (count <= 0) {
        fail(err, errlen, "invalid count %ld", count);
        return -1;
    }
    rd_kafka_conf_t *conf = make_conf(bootstrap, consumer_properties, COUNT_OF(consumer_properties), err, errlen);
    if (!conf) return -1;
    const char *const group_property[1][2] = {{"group.id", group}};
    if (set_properties(conf, group_property, 1, err, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }

    char reason[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof(reason));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fail(err, errlen, "rd_kafka_new: %s", reason);
        return -1;
    }
    rd_kafka_poll_set_consumer(rk);

    double result = -1;
    rd_kafka_topic_partition_list_t *subscription = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subscription, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t subscribed = rd_kafka_subscribe(rk, subscription);
    rd_kafka_topic_partition_list_destroy(subscription);
    if (subscribed != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail(err, errlen, "rd_kafka_subscribe: %s", rd_kafka_err2str(subscribed));
        goto done;
    }

    long received = 0;
    long long payload_bytes = 0;
    long long header_bytes = 0;
    double start = 0;
    int idle_polls = 0; /* consecutive empty 100 ms polls */
    while (received < count) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(rk, 100);
        if (!message) {
            if (++idle_polls * 100 >= idle_timeout_ms) {
                fail(err, errlen, "no message for %d ms after %ld of %ld", idle_timeout_ms, received, count);
                goto done;
            }
            continue;
        }
        if (message->err) {
            /* Consumer errors are informational (librdkafka retries); a fatal one ends the run. */
            if (message->err == RD_KAFKA_RESP_ERR__FATAL) {
                fail(err, errlen, "fatal consumer error: %s", rd_kafka_message_errstr(message));
                rd_kafka_message_destroy(message);
                goto done;
            }
            rd_kafka_message_destroy(message);
            continue;
        }
        if (received == 0) start = now_seconds();
        idle_polls = 0;
        payload_bytes += (long long)message->len;
        if (with_headers) header_bytes += read_headers(message);
        received++;
        rd_kafka_message_destroy(message);
    }
    double elapsed = now_seconds() - start;

    if (with_headers && header_bytes == 0) {
        fail(err, errlen, "the %ld records carried no headers", count);
    } else if (!with_headers && payload_bytes != (long long)count * size) {
        fail(err, errlen, "read %lld value bytes, expected %lld", payload_bytes, (long long)count * size);
    } else {
        result = (double)count / elapsed;
    }

done:
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return result;
}

double dabba_baseline_consume(const char *bootstrap, const char *topic, const char *group, long count, int size,
                              int idle_timeout_ms, char *err, size_t errlen) {
    return consume(bootstrap, topic, group, count, size, 0, idle_timeout_ms, err, errlen);
}

double dabba_baseline_consume_headers(const char *bootstrap, const char *topic, const char *group, long count,
                                      int idle_timeout_ms, char *err, size_t errlen) {
    return consume(bootstrap, topic, group, count, 0, 1, idle_timeout_ms, err, errlen);
}
