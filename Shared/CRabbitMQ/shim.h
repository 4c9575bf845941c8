#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_framing.h>
#endif
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

static inline amqp_bytes_t gmall_amqp_bytes(const void *p, size_t n) {
    amqp_bytes_t b; b.len = n; b.bytes = (void *)p; return b;
}
static inline struct timeval gmall_amqp_timeval_ms(long ms) {
    struct timeval tv; tv.tv_sec = ms / 1000; tv.tv_usec = (ms % 1000) * 1000; return tv;
}
/* AMQP_BASIC_*_FLAG are macros built from shifts; expose them as functions. */
static inline amqp_flags_t gmall_flag_content_type(void) { return AMQP_BASIC_CONTENT_TYPE_FLAG; }
static inline amqp_flags_t gmall_flag_delivery_mode(void) { return AMQP_BASIC_DELIVERY_MODE_FLAG; }
static inline amqp_flags_t gmall_flag_message_id(void) { return AMQP_BASIC_MESSAGE_ID_FLAG; }
static inline amqp_flags_t gmall_flag_headers(void) { return AMQP_BASIC_HEADERS_FLAG; }
static inline amqp_flags_t gmall_flag_expiration(void) { return AMQP_BASIC_EXPIRATION_FLAG; }
static inline amqp_method_number_t gmall_method_basic_ack(void) { return AMQP_BASIC_ACK_METHOD; }
static inline amqp_method_number_t gmall_method_basic_nack(void) { return AMQP_BASIC_NACK_METHOD; }
static inline amqp_method_number_t gmall_method_basic_return(void) { return AMQP_BASIC_RETURN_METHOD; }
static inline amqp_method_number_t gmall_method_channel_close(void) { return AMQP_CHANNEL_CLOSE_METHOD; }
static inline amqp_method_number_t gmall_method_connection_close(void) { return AMQP_CONNECTION_CLOSE_METHOD; }
static inline amqp_bytes_t gmall_amqp_empty_bytes(void) { return amqp_empty_bytes; }
static inline amqp_table_t gmall_amqp_empty_table(void) { return amqp_empty_table; }
/* amqp_login is variadic and cannot be called from Swift. */
static inline amqp_rpc_reply_t gmall_amqp_login_plain(amqp_connection_state_t c, const char *vhost, int heartbeat,
                                                      const char *user, const char *password) {
    return amqp_login(c, vhost, 0, 131072, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}
/* Table entries are unions; build them in C. The bytes must outlive the call that sends the table. */
static inline amqp_table_entry_t gmall_amqp_entry_utf8(amqp_bytes_t key, amqp_bytes_t value) {
    amqp_table_entry_t e; e.key = key; e.value.kind = AMQP_FIELD_KIND_UTF8; e.value.value.bytes = value; return e;
}
static inline amqp_table_entry_t gmall_amqp_entry_i64(amqp_bytes_t key, int64_t value) {
    amqp_table_entry_t e; e.key = key; e.value.kind = AMQP_FIELD_KIND_I64; e.value.value.i64 = value; return e;
}
/* Reads a header value as text (UTF-8 / bytes kinds) or as a number printed into buf; 0 when absent. */
static inline int gmall_amqp_entry_text(const amqp_table_entry_t *e, char *buf, size_t cap) {
    switch (e->value.kind) {
    case AMQP_FIELD_KIND_UTF8: case AMQP_FIELD_KIND_BYTES: {
        size_t n = e->value.value.bytes.len < cap - 1 ? e->value.value.bytes.len : cap - 1;
        memcpy(buf, e->value.value.bytes.bytes, n); buf[n] = 0; return 1; }
    case AMQP_FIELD_KIND_I64: snprintf(buf, cap, "%lld", (long long)e->value.value.i64); return 1;
    case AMQP_FIELD_KIND_I32: snprintf(buf, cap, "%d", e->value.value.i32); return 1;
    case AMQP_FIELD_KIND_U32: snprintf(buf, cap, "%u", e->value.value.u32); return 1;
    default: return 0;
    }
}
static inline const amqp_table_entry_t *gmall_amqp_table_at(amqp_table_t t, int i) { return &t.entries[i]; }
static inline amqp_method_number_t gmall_method_basic_get_ok(void) { return AMQP_BASIC_GET_OK_METHOD; }
