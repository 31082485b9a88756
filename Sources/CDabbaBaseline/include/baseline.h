#ifndef DABBA_BASELINE_H
#define DABBA_BASELINE_H

/*
 * The raw librdkafka baseline that `dabba bench` measures Dabba against: an idiomatic C producer and high-level
 * consumer with the same librdkafka properties as Dabba's defaults (ProducerConfiguration, ConsumerConfiguration).
 *
 * Each function creates its own client, runs one phase and destroys the client. It returns the throughput in
 * messages per second, or a negative number after writing a NUL-terminated reason into `err` (`errlen` bytes).
 */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Produces `count` messages of `size` bytes to `topic`; message i has the key "key-<i % keys>". Every message must
 * be acknowledged. One warm-up message (key "warm-up") is produced and flushed first, untimed; then the clock runs
 * from the first rd_kafka_producev to the end of rd_kafka_flush, by which time every delivery report was counted.
 */
double dabba_baseline_produce(const char *bootstrap, const char *topic, long count, int size, int keys, char *err,
                              size_t errlen);

/*
 * Produces `count` CloudEvents records of the bench event, as Dabba's typed producer writes them: key
 * "key-<i % keys>", a fresh version 7 UUID id and an RFC 3339 time per record, the JSON payload
 * {"amount":<i % 997>,"key":"key-<k>","sequence":<i>}. Binary mode (`structured` 0): the eight headers Dabba writes.
 * Structured mode (`structured` 1): one `content-type: application/cloudevents+json` header, the envelope and the
 * payload (as "data") in the value. `linger_ms` sets linger.ms; otherwise Dabba's producer defaults. Timed like
 * dabba_baseline_produce.
 */
double dabba_baseline_produce_events(const char *bootstrap, const char *topic, long count, int keys, int linger_ms,
                                     int structured, char *err, size_t errlen);

/*
 * Joins consumer group `group`, subscribes to `topic` and reads `count` messages, each expected to carry a
 * `size`-byte value. The clock runs from the first message to the `count`th (the group join is not measured).
 * Fails if no message arrives for `idle_timeout_ms`.
 */
double dabba_baseline_consume(const char *bootstrap, const char *topic, const char *group, long count, int size,
                              int idle_timeout_ms, char *err, size_t errlen);

/*
 * Like dabba_baseline_consume, for records with headers (CloudEvents binary mode): every record's headers are parsed
 * by librdkafka and each name and value visited, as any consumer of such records must; values are not checked.
 */
double dabba_baseline_consume_headers(const char *bootstrap, const char *topic, const char *group, long count,
                                      int idle_timeout_ms, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
