#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/rsa.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/rand.h>

/* EVP_MD_CTX helpers are functions already; BIO_new_mem_buf takes const void*. */
static inline BIO *gmall_bio_mem(const void *p, int n) { return BIO_new_mem_buf(p, n); }
#include <openssl/hmac.h>
#include <openssl/crypto.h>
