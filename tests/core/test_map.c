/*
 * test_map.c - core/lt_map, the hash table of the scheduler and the host:
 * random insert/delete/lookup against a reference array (backward-shift
 * deletion must keep every probe run reachable), replace vs add, iteration,
 * NULL keys, and failure of the first allocation.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "lt_alloc.h"
#include "lt_map.h"
#include "lt_testutil.h"

typedef struct {
    char key[16];
} item;

START_TEST(test_map_random_ops)
{
    enum {
        N = 3000
    };
    static item items[N];
    static bool in[N];
    lt_map m;
    unsigned seed = 7;

    lt_map_init(&m);
    for (int i = 0; i < N; i++) {
        snprintf(items[i].key, sizeof(items[i].key), "k%d", i);
        in[i] = false;
    }
    for (int round = 0; round < 20000; round++) {
        int i = (int)(rand_r(&seed) % N);

        if (in[i]) {
            ck_assert_ptr_eq(lt_map_del(&m, items[i].key), &items[i]);
            ck_assert_ptr_null(lt_map_del(&m, items[i].key));
            in[i] = false;
        } else {
            ck_assert_int_eq(lt_map_add(&m, items[i].key, &items[i]), LT_OK);
            in[i] = true;
        }
        if (round % 1999 == 0) {
            size_t count = 0, it = 0;

            for (int j = 0; j < N; j++) {
                ck_assert_ptr_eq(lt_map_get(&m, items[j].key), in[j] ? &items[j] : NULL);
                count += in[j];
            }
            ck_assert_uint_eq(count, m.count);
            count = 0;
            while (lt_map_next(&m, &it) != NULL)
                count++;
            ck_assert_uint_eq(count, m.count);
            ck_assert_uint_le(m.count * 4, m.cap * 3); /* load factor */
        }
    }
    lt_map_cleanup(&m);
    lt_map_cleanup(NULL);
}
END_TEST

START_TEST(test_map_add_put)
{
    item a = { "same" }, b = { "same" };
    int x;
    lt_map m = { 0 };

    ck_assert_ptr_null(lt_map_get(&m, "same")); /* zero-initialised is empty */
    ck_assert_ptr_null(lt_map_get(&m, NULL));
    ck_assert_int_eq(lt_map_add(&m, a.key, &a), LT_OK);
    ck_assert_int_eq(lt_map_add(&m, b.key, &b), LT_ERR_CONFLICT); /* add refuses */
    ck_assert_ptr_eq(lt_map_get(&m, "same"), &a);
    ck_assert_int_eq(lt_map_put(&m, b.key, &x), LT_OK); /* put replaces */
    ck_assert_uint_eq(m.count, 1);
    ck_assert_ptr_eq(lt_map_get(&m, "same"), &x);
    ck_assert_ptr_null(lt_map_get(&m, "nope"));
    ck_assert_ptr_null(lt_map_del(&m, NULL));
    ck_assert_ptr_eq(lt_map_del(&m, "same"), &x);
    ck_assert_uint_eq(m.count, 0);
    ck_assert_uint_ne(lt_map_hash("a"), lt_map_hash("b"));
    lt_map_cleanup(&m);
}
END_TEST

static void *no_malloc(size_t n)
{
    (void)n;
    return NULL;
}
static void *no_calloc(size_t n, size_t s)
{
    (void)n;
    (void)s;
    return NULL;
}
static void *no_realloc(void *p, size_t n)
{
    (void)p;
    (void)n;
    return NULL;
}

START_TEST(test_map_nomem)
{
    lt_allocator none = { no_malloc, no_calloc, no_realloc, free };
    lt_map m;

    lt_map_init(&m);
    lt_alloc_set(&none);
    ck_assert_int_eq(lt_map_put(&m, "k", &m), LT_ERR_NOMEM);
    lt_alloc_set(NULL);
    ck_assert_uint_eq(m.count, 0);
    ck_assert_ptr_null(lt_map_get(&m, "k"));
    lt_map_cleanup(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("map");

    lt_test_tcase(s, "all", 0,
                  (const TTest *const[]){ test_map_random_ops, test_map_add_put, test_map_nomem,
                                          NULL });
    return lt_test_run_suite(s);
}
