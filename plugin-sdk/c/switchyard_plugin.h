/* Switchyard plugin ABI v1 for C (and C++, Zig's C): freestanding, no libc.
 * See plugin-sdk/ABI.md; build with
 *
 *   clang-19 --target=wasm32 -O2 -nostdlib -mbulk-memory \
 *       -Wl,--no-entry -Wl,-z,stack-size=65536 -o plugin.wasm plugin.c
 *
 * Include this header in exactly one C file: it defines the module's `alloc`
 * export (a bump allocator: every call is a fresh instance, so nothing is
 * ever freed) and `switchyard_log`, the one import.
 */
#ifndef SWITCHYARD_PLUGIN_H
#define SWITCHYARD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

/* Exports a function under `name` (`transform` or `build_payload`). */
#define SWITCHYARD_EXPORT(name) __attribute__((export_name(name), visibility("default")))

/* Appends `len` bytes of UTF-8 at `text` to the call's log. */
__attribute__((import_module("switchyard_v1"), import_name("log")))
void switchyard_log(const char *text, int32_t len);

/* Where the linker ends static data: the heap starts here. */
extern unsigned char __heap_base;
static uintptr_t switchyard_heap_top = 0;

/* `alloc(len)`: `len` bytes, 8-aligned, growing memory when needed; 0 when
 * the memory limit refuses to grow (the host then names the limit). */
SWITCHYARD_EXPORT("alloc") void *switchyard_alloc(int32_t len) {
    if (switchyard_heap_top == 0) switchyard_heap_top = (uintptr_t)&__heap_base;
    uintptr_t start = (switchyard_heap_top + 7) & ~(uintptr_t)7;
    uintptr_t end = start + (uint32_t)len;
    uintptr_t available = __builtin_wasm_memory_size(0) * 65536;
    if (end > available) {
        uintptr_t pages = (end - available + 65535) / 65536;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return 0;
    }
    switchyard_heap_top = end;
    return (void *)start;
}

/* The entry point's return value: the result document at `ptr`, `len` bytes. */
static inline int64_t switchyard_result(const char *ptr, uint32_t len) {
    return (int64_t)(((uint64_t)(uintptr_t)ptr << 32) | len);
}

/* Without a libc, the two string functions the helpers need. */
static uint32_t switchyard_strlen(const char *text) {
    uint32_t len = 0;
    while (text[len]) len++;
    return len;
}

static int switchyard_equal(const char *a, const char *b, uint32_t len) {
    for (uint32_t i = 0; i < len; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* A growable output buffer on the heap. */
typedef struct {
    char *data;
    uint32_t len;
    uint32_t capacity;
} switchyard_buffer;

static void switchyard_append(switchyard_buffer *out, const char *text, uint32_t len) {
    if (out->len + len > out->capacity) {
        uint32_t capacity = (out->len + len) * 2 + 64;
        char *grown = switchyard_alloc((int32_t)capacity);
        if (!grown) __builtin_trap();
        __builtin_memcpy(grown, out->data, out->len);
        out->data = grown;
        out->capacity = capacity;
    }
    __builtin_memcpy(out->data + out->len, text, len);
    out->len += len;
}

static void switchyard_append_str(switchyard_buffer *out, const char *text) {
    switchyard_append(out, text, switchyard_strlen(text));
}

/* Finds the first `"key": "value"` in a JSON text and points `*value` at the
 * value's characters (without quotes). A deliberately small helper for the
 * example: it does not decode escapes and matches the key anywhere. Returns
 * the value's length, or -1 when the key is absent. */
static int32_t switchyard_find_string(const char *json, uint32_t len, const char *key,
                                      const char **value) {
    uint32_t key_len = switchyard_strlen(key);
    for (uint32_t i = 0; i + key_len + 2 < len; i++) {
        if (json[i] != '"' || json[i + key_len + 1] != '"') continue;
        if (!switchyard_equal(json + i + 1, key, key_len)) continue;
        uint32_t j = i + key_len + 2;
        while (j < len && (json[j] == ' ' || json[j] == ':')) j++;
        if (j >= len || json[j] != '"') continue;
        uint32_t start = ++j;
        while (j < len && json[j] != '"') j += json[j] == '\\' ? 2 : 1;
        *value = json + start;
        return (int32_t)(j - start);
    }
    return -1;
}

#endif
