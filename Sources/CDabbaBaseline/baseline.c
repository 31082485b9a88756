/*
 * The raw librdkafka baseline of `dabba bench`: the producer and consumer loops a C programmer would write from
 * librdkafka's own examples (examples/producer.c, examples/consumer.c), with the same properties Dabba sets by
 * default, so that the comparison measures Dabba's overhead and nothing else.
 */
#include "baseline.h"

#include <librdkafka/rdkafka.h>
#include <stdarg.h>
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
 * ConsumerConfiguration.swift's defaults, except offset storing: Dabba stores each offset the application marks
 * processed (enable.auto.offset.store=false plus rd_kafka_offset_store); the idiomatic C consumer keeps librdkafka's
 * default automatic store, its equivalent for a loop that has finished with a message when it polls the next.
 */
static const char *const consumer_properties[][2] = {
    {"enable.auto.commit", "true"},
    {"auto.commit.interval.ms", "5000"},
    {"auto.offset.reset", "earliest"},
    {"session.timeout.ms", "45000"},
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

double dabba_baseline_produce(const char *bootstrap, const char *topic, long count, int size, int keys, char *err,
                              size_t errlen) {
    if (count <= 0 || size < 0 || keys <= 0) {
        fail(err, errlen, "invalid workload: count %ld, size %d, keys %d", count, size, keys);
        return -1;
    }
    rd_kafka_conf_t *conf = make_conf(bootstrap, producer_properties, COUNT_OF(producer_properties), err, errlen);
    if (!conf) return -1;
    struct delivery_counts counts = {0, 0, RD_KAFKA_RESP_ERR_NO_ERROR};
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &counts);

    char reason[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof(reason));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fail(err, errlen, "rd_kafka_new: %s", reason);
        return -1;
    }

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

    /* Warm-up, not timed: one acknowledged message makes the producer ready (connection, metadata, producer id),
     * which takes anywhere from a few milliseconds to over a second on the embedded broker. */
    rd_kafka_resp_err_t warmed = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY("warm-up", 7),
                                                   RD_KAFKA_V_VALUE(value, (size_t)size),
                                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (warmed == RD_KAFKA_RESP_ERR_NO_ERROR) warmed = rd_kafka_flush(rk, 30 * 1000);
    if (warmed != RD_KAFKA_RESP_ERR_NO_ERROR || counts.delivered != 1) {
        fail(err, errlen, "warm-up message not delivered: %s",
             rd_kafka_err2str(warmed ? warmed : counts.first_error));
        goto done;
    }
    counts.delivered = 0;

    double start = now_seconds();
    for (long i = 0; i < count; i++) {
        int k = (int)(i % keys);
        rd_kafka_resp_err_t code;
        for (;;) {
            code = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key_text[k], (size_t)key_length[k]),
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
    rd_kafka_resp_err_t flushed = rd_kafka_flush(rk, 120 * 1000);
    double elapsed = now_seconds() - start;

    if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail(err, errlen, "rd_kafka_flush: %s (%d messages in flight)", rd_kafka_err2str(flushed),
             rd_kafka_outq_len(rk));
    } else if (counts.failed > 0) {
        fail(err, errlen, "%ld messages failed, first: %s", counts.failed, rd_kafka_err2str(counts.first_error));
    } else if (counts.delivered != count) {
        fail(err, errlen, "%ld of %ld messages acknowledged", counts.delivered, count);
    } else {
        result = (double)count / elapsed;
    }

done:
    free(value);
    free(key_text);
    free(key_length);
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
