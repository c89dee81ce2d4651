#ifndef KMESH_COPENSSL_SHIM_H
#define KMESH_COPENSSL_SHIM_H
#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#endif
