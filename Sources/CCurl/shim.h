#ifndef KMESH_CCURL_SHIM_H
#define KMESH_CCURL_SHIM_H
#include <curl/curl.h>

// curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic, which Swift cannot
// call: these typed wrappers are the only way the Swift code touches them.
static inline CURLcode kmesh_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kmesh_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kmesh_easy_setopt_ptr(CURL *h, CURLoption o, const void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kmesh_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kmesh_easy_setopt_blob(CURL *h, CURLoption o, struct curl_blob *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*kmesh_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode kmesh_easy_setopt_datacb(CURL *h, CURLoption o, kmesh_data_callback v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kmesh_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode kmesh_easy_getinfo_ptr(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLMcode kmesh_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

// A trust store built once and shared by every TLS connection of a client given an extra CA
// (HTTPTransport's TrustStores). libcurl parses an in-memory CA blob again for each new connection:
// about 20 ms of CPU for a 140-certificate bundle, on the one thread that runs every transfer.
#include <stdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

// The store for a CA bundle file (or NULL) plus extra CAs in PEM (or none); NULL when nothing could be
// loaded, with the reason in `why`. The flags are the ones libcurl sets on the stores it builds.
static inline X509_STORE *kmesh_trust_store_new(const char *bundle, const void *pem, size_t pem_length, char *why, size_t why_length) {
    X509_STORE *store = X509_STORE_new();
    if (!store) {
        snprintf(why, why_length, "out of memory");
        return NULL;
    }
    ERR_clear_error();
    if (bundle && X509_STORE_load_file(store, bundle) != 1) {
        const char *reason = ERR_reason_error_string(ERR_peek_last_error());
        snprintf(why, why_length, "cannot load the CA bundle %s: %s", bundle, reason ? reason : "no certificate in it");
        X509_STORE_free(store);
        return NULL;
    }
    if (pem && pem_length > 0) {
        BIO *bio = BIO_new_mem_buf(pem, (int)pem_length);
        STACK_OF(X509_INFO) *infos = bio ? PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL) : NULL;
        int added = 0;
        for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
            X509_INFO *info = sk_X509_INFO_value(infos, i);
            if (info->x509 && X509_STORE_add_cert(store, info->x509) == 1) added++;
        }
        if (infos) sk_X509_INFO_pop_free(infos, X509_INFO_free);
        if (bio) BIO_free(bio);
        if (added == 0) {
            snprintf(why, why_length, "the extra CA holds no PEM certificate");
            X509_STORE_free(store);
            return NULL;
        }
    }
    ERR_clear_error();
    X509_STORE_set_flags(store, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
    return store;
}

// How many certificates (and CRLs) it holds.
static inline int kmesh_trust_store_count(X509_STORE *store) { return sk_X509_OBJECT_num(X509_STORE_get0_objects(store)); }

// CURLOPT_SSL_CTX_FUNCTION: the shared store replaces the one libcurl made for the connection.
static inline CURLcode kmesh_install_trust_store(CURL *curl, void *ssl_ctx, void *store) {
    (void)curl;
    SSL_CTX_set1_cert_store((SSL_CTX *)ssl_ctx, (X509_STORE *)store);
    return CURLE_OK;
}

// Makes the handle's new TLS connections verify against `store`.
static inline CURLcode kmesh_easy_use_trust_store(CURL *h, X509_STORE *store) {
    CURLcode rc = curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, kmesh_install_trust_store);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, (void *)store);
    return rc;
}
#endif
