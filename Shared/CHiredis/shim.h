#include <hiredis/hiredis.h>
#include <sys/time.h>

/* Non-owning view on a reply's element i; macros and pointer arithmetic made callable from Swift. */
static inline redisReply *gmall_redis_element(redisReply *r, size_t i) { return r->element[i]; }
static inline struct timeval gmall_timeval_ms(long ms) {
    struct timeval tv; tv.tv_sec = ms / 1000; tv.tv_usec = (ms % 1000) * 1000; return tv;
}
