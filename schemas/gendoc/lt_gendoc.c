/*
 * lt_gendoc.c - writes the Markdown protocol reference (docs/protocol.md) from
 * a FileDescriptorSet made by `protoc --include_imports --include_source_info
 * --descriptor_set_out`: per package and file, the file comment, then every
 * message (field table), enum (value table) and service, with the .proto
 * comments as text. Imported google/protobuf files are linked, not documented.
 * Build tool: `lt_gendoc <descriptor-set.pb> <out.md>`; output is deterministic.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_status.h"

#define GENDOC_MAX_INPUT (16u << 20) /* descriptor set bytes */
#define GENDOC_MAX_DOC (16u << 20)   /* Markdown bytes */
#define GENDOC_MAX_PATH 32           /* source-info path depth */

typedef Google__Protobuf__FileDescriptorSet FileSet;
typedef Google__Protobuf__FileDescriptorProto FileDesc;
typedef Google__Protobuf__DescriptorProto MsgDesc;
typedef Google__Protobuf__FieldDescriptorProto FieldDesc;
typedef Google__Protobuf__EnumDescriptorProto EnumDesc;
typedef Google__Protobuf__ServiceDescriptorProto SvcDesc;
typedef Google__Protobuf__SourceCodeInfo__Location Location;

/* Field numbers inside descriptor.proto, as used in SourceCodeInfo paths. */
enum {
    P_FILE_MESSAGE = 4,
    P_FILE_ENUM = 5,
    P_FILE_SERVICE = 6,
    P_FILE_SYNTAX = 12,
    P_MSG_FIELD = 2,
    P_MSG_NESTED = 3,
    P_MSG_ENUM = 4,
    P_ENUM_VALUE = 2,
    P_SVC_METHOD = 2,
};

/* Where we are: the file being documented and the source path so far. */
typedef struct {
    const FileSet *set;
    const FileDesc *file;
    lt_buf *out;
    int32_t path[GENDOC_MAX_PATH];
    size_t depth;
} doc_ctx;

static bool is_documented(const FileDesc *f)
{
    return f->name && strncmp(f->name, "google/protobuf/", 16) != 0;
}

/* Source location of ctx->path (+ extra components), or NULL. */
static const Location *find_loc(const doc_ctx *ctx, const int32_t *extra, size_t n)
{
    const Google__Protobuf__SourceCodeInfo *sci = ctx->file->source_code_info;
    size_t want = ctx->depth + n;
    if (!sci)
        return NULL;
    for (size_t i = 0; i < sci->n_location; i++) {
        const Location *l = sci->location[i];
        if (l->n_path != want)
            continue;
        if (memcmp(l->path, ctx->path, ctx->depth * sizeof(int32_t)) == 0 &&
            (n == 0 || memcmp(l->path + ctx->depth, extra, n * sizeof(int32_t)) == 0))
            return l;
    }
    return NULL;
}

static const char *loc_comment(const Location *l)
{
    if (!l)
        return "";
    if (l->leading_comments)
        return l->leading_comments;
    return l->trailing_comments ? l->trailing_comments : "";
}

static lt_status push(doc_ctx *ctx, int32_t a, int32_t b)
{
    if (ctx->depth + 2 > GENDOC_MAX_PATH)
        return LT_FAIL(LT_ERR_TOO_BIG, "declarations nested too deeply");
    ctx->path[ctx->depth++] = a;
    ctx->path[ctx->depth++] = b;
    return LT_OK;
}

/* A comment as a Markdown block: one leading space per line dropped. */
static lt_status put_block(lt_buf *out, const char *text)
{
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    if (len == 0)
        return LT_OK;
    for (size_t i = 0; i < len && lt_buf_status(out) == LT_OK;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t from = (text[i] == ' ') ? i + 1 : i;
        if (end > from)
            LT_IGNORE(lt_buf_append(out, text + from, end - from));
        LT_IGNORE(lt_buf_appendc(out, '\n'));
        i = end + 1;
    }
    return lt_buf_appendc(out, '\n');
}

/* A comment as one table cell: whitespace runs become one space, `|` escaped. */
static lt_status put_cell(lt_buf *out, const char *text)
{
    bool space = false, any = false;
    for (const char *p = text; *p && lt_buf_status(out) == LT_OK; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
            space = any;
            continue;
        }
        if (space)
            LT_IGNORE(lt_buf_appendc(out, ' '));
        space = false;
        any = true;
        if (*p == '|')
            LT_IGNORE(lt_buf_appendc(out, '\\'));
        LT_IGNORE(lt_buf_appendc(out, *p));
    }
    return lt_buf_status(out);
}

/* Is the fully qualified ".pkg.Name" type declared in a documented file? */
static bool type_documented(const FileSet *set, const char *type_name)
{
    for (size_t i = 0; i < set->n_file; i++) {
        const FileDesc *f = set->file[i];
        size_t plen = f->package ? strlen(f->package) : 0;
        if (!is_documented(f) || !f->package)
            continue;
        if (strncmp(type_name + 1, f->package, plen) == 0 && type_name[plen + 1] == '.')
            return true;
    }
    return false;
}

/* Type reference: a link when documented here, plain text otherwise. */
static lt_status put_type_ref(const doc_ctx *ctx, const char *type_name)
{
    const char *full = type_name[0] == '.' ? type_name + 1 : type_name;
    const char *pkg = ctx->file->package ? ctx->file->package : "";
    const char *shown = full;
    size_t plen = strlen(pkg);
    if (plen > 0 && strncmp(full, pkg, plen) == 0 && full[plen] == '.')
        shown = full + plen + 1;
    if (!type_documented(ctx->set, type_name))
        return lt_buf_appendf(ctx->out, "`%s`", shown);
    return lt_buf_appendf(ctx->out, "[`%s`](#%s)", shown, full);
}

static const char *scalar_name(int type)
{
    static const char *const names[] = {
        [1] = "double",    [2] = "float",   [3] = "int64",   [4] = "uint64", [5] = "int32",
        [6] = "fixed64",   [7] = "fixed32", [8] = "bool",    [9] = "string", [10] = "group",
        [11] = "message",  [12] = "bytes",  [13] = "uint32", [14] = "enum",  [15] = "sfixed32",
        [16] = "sfixed64", [17] = "sint32", [18] = "sint64",
    };
    if (type < 1 || type > 18)
        return "?";
    return names[type];
}

/* The map entry message a field's type names, if that field is a map. */
static const MsgDesc *map_entry(const MsgDesc *m, const FieldDesc *f)
{
    const char *last;
    if (f->type != GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_MESSAGE ||
        f->label != GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__LABEL__LABEL_REPEATED ||
        !f->type_name)
        return NULL;
    last = strrchr(f->type_name, '.');
    last = last ? last + 1 : f->type_name;
    for (size_t i = 0; i < m->n_nested_type; i++) {
        const MsgDesc *n = m->nested_type[i];
        if (n->options && n->options->map_entry && n->name && strcmp(n->name, last) == 0)
            return n;
    }
    return NULL;
}

static lt_status put_field_type(const doc_ctx *ctx, const FieldDesc *f)
{
    if (f->type_name)
        return put_type_ref(ctx, f->type_name);
    return lt_buf_appendf(ctx->out, "`%s`", scalar_name((int)f->type));
}

/* Type cell of a field: scalar, linked message/enum, or map<K, V>. */
static lt_status put_type_cell(const doc_ctx *ctx, const MsgDesc *m, const FieldDesc *f)
{
    const MsgDesc *entry = map_entry(m, f);
    if (!entry || entry->n_field != 2)
        return put_field_type(ctx, f);
    if (!entry->field[1]->type_name)
        return lt_buf_appendf(ctx->out, "`map<%s, %s>`", scalar_name((int)entry->field[0]->type),
                              scalar_name((int)entry->field[1]->type));
    LT_IGNORE(lt_buf_appendf(ctx->out, "map<`%s`, ", scalar_name((int)entry->field[0]->type)));
    LT_IGNORE(put_field_type(ctx, entry->field[1]));
    return lt_buf_appendc(ctx->out, '>');
}

static lt_status put_label_cell(lt_buf *out, const MsgDesc *m, const FieldDesc *f)
{
    if (map_entry(m, f))
        return LT_OK;
    if (f->has_oneof_index && !f->proto3_optional && f->oneof_index >= 0 &&
        (size_t)f->oneof_index < m->n_oneof_decl)
        return lt_buf_appendf(out, "oneof `%s`", m->oneof_decl[f->oneof_index]->name);
    if (f->label == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__LABEL__LABEL_REPEATED)
        return lt_buf_appends(out, "repeated");
    return LT_OK;
}

static lt_status put_field_row(doc_ctx *ctx, const MsgDesc *m, size_t i)
{
    const FieldDesc *f = m->field[i];
    const int32_t extra[2] = { P_MSG_FIELD, (int32_t)i };
    LT_IGNORE(lt_buf_appendf(ctx->out, "| `%s` | %d | ", f->name, (int)f->number));
    LT_IGNORE(put_type_cell(ctx, m, f));
    LT_IGNORE(lt_buf_appends(ctx->out, " | "));
    LT_IGNORE(put_label_cell(ctx->out, m, f));
    LT_IGNORE(lt_buf_appendf(ctx->out, " | `%s` | ", f->json_name ? f->json_name : f->name));
    LT_IGNORE(put_cell(ctx->out, loc_comment(find_loc(ctx, extra, 2))));
    return lt_buf_appends(ctx->out, " |\n");
}

static lt_status put_heading(doc_ctx *ctx, const char *kind, const char *prefix, const char *name)
{
    const char *pkg = ctx->file->package ? ctx->file->package : "";
    return lt_buf_appendf(ctx->out, "<a id=\"%s%s%s%s\"></a>\n\n#### %s `%s%s`\n\n", pkg,
                          *pkg ? "." : "", prefix, name, kind, prefix, name);
}

static lt_status put_enum(doc_ctx *ctx, const EnumDesc *e, const char *prefix)
{
    LT_IGNORE(put_heading(ctx, "enum", prefix, e->name));
    LT_IGNORE(put_block(ctx->out, loc_comment(find_loc(ctx, NULL, 0))));
    LT_IGNORE(lt_buf_appends(ctx->out, "| Name | Number | Description |\n|---|---|---|\n"));
    for (size_t i = 0; i < e->n_value && lt_buf_status(ctx->out) == LT_OK; i++) {
        const int32_t extra[2] = { P_ENUM_VALUE, (int32_t)i };
        LT_IGNORE(lt_buf_appendf(ctx->out, "| `%s` | %d | ", e->value[i]->name,
                                 (int)e->value[i]->number));
        LT_IGNORE(put_cell(ctx->out, loc_comment(find_loc(ctx, extra, 2))));
        LT_IGNORE(lt_buf_appends(ctx->out, " |\n"));
    }
    return lt_buf_appendc(ctx->out, '\n');
}

static lt_status put_message(doc_ctx *ctx, const MsgDesc *m, const char *prefix);

/* Nested messages (except map entries) and enums of m, named "Outer.Inner". */
static lt_status put_nested(doc_ctx *ctx, const MsgDesc *m, const char *prefix)
{
    lt_status st = LT_OK;
    lt_buf name;
    lt_buf_init(&name, 1024);
    st = lt_buf_appendf(&name, "%s%s.", prefix, m->name);
    for (size_t i = 0; i < m->n_nested_type && st == LT_OK; i++) {
        const MsgDesc *n = m->nested_type[i];
        if (n->options && n->options->map_entry)
            continue;
        st = push(ctx, P_MSG_NESTED, (int32_t)i);
        if (st == LT_OK)
            st = put_message(ctx, n, name.ptr);
        ctx->depth -= 2;
    }
    for (size_t i = 0; i < m->n_enum_type && st == LT_OK; i++) {
        st = push(ctx, P_MSG_ENUM, (int32_t)i);
        if (st == LT_OK)
            st = put_enum(ctx, m->enum_type[i], name.ptr);
        ctx->depth -= 2;
    }
    lt_buf_cleanup(&name);
    return st;
}

static lt_status put_message(doc_ctx *ctx, const MsgDesc *m, const char *prefix)
{
    LT_IGNORE(put_heading(ctx, "message", prefix, m->name));
    LT_IGNORE(put_block(ctx->out, loc_comment(find_loc(ctx, NULL, 0))));
    if (m->n_field == 0)
        LT_IGNORE(lt_buf_appends(ctx->out, "_No fields._\n\n"));
    else
        LT_IGNORE(lt_buf_appends(ctx->out,
                                 "| Field | Number | Type | Label | JSON | Description |\n"
                                 "|---|---|---|---|---|---|\n"));
    for (size_t i = 0; i < m->n_field && lt_buf_status(ctx->out) == LT_OK; i++)
        LT_IGNORE(put_field_row(ctx, m, i));
    if (m->n_field > 0)
        LT_IGNORE(lt_buf_appendc(ctx->out, '\n'));
    return lt_buf_status(ctx->out) == LT_OK ? put_nested(ctx, m, prefix) : lt_buf_status(ctx->out);
}

static lt_status put_service(doc_ctx *ctx, const SvcDesc *s)
{
    LT_IGNORE(put_heading(ctx, "service", "", s->name));
    LT_IGNORE(put_block(ctx->out, loc_comment(find_loc(ctx, NULL, 0))));
    LT_IGNORE(lt_buf_appends(ctx->out, "| Method | Request | Response | Description |\n"
                                       "|---|---|---|---|\n"));
    for (size_t i = 0; i < s->n_method && lt_buf_status(ctx->out) == LT_OK; i++) {
        const Google__Protobuf__MethodDescriptorProto *md = s->method[i];
        const int32_t extra[2] = { P_SVC_METHOD, (int32_t)i };
        LT_IGNORE(lt_buf_appendf(ctx->out, "| `%s` | ", md->name));
        LT_IGNORE(put_type_ref(ctx, md->input_type));
        LT_IGNORE(lt_buf_appends(ctx->out, " | "));
        LT_IGNORE(put_type_ref(ctx, md->output_type));
        LT_IGNORE(lt_buf_appends(ctx->out, " | "));
        LT_IGNORE(put_cell(ctx->out, loc_comment(find_loc(ctx, extra, 2))));
        LT_IGNORE(lt_buf_appends(ctx->out, " |\n"));
    }
    return lt_buf_appendc(ctx->out, '\n');
}

/* File comment: detached paragraphs and leading comment of `syntax`. */
static lt_status put_file_comment(doc_ctx *ctx)
{
    const int32_t syntax_path[1] = { P_FILE_SYNTAX };
    const Location *l = find_loc(ctx, syntax_path, 1);
    lt_status st = LT_OK;
    if (!l)
        return LT_OK;
    for (size_t i = 0; i < l->n_leading_detached_comments && st == LT_OK; i++)
        st = put_block(ctx->out, l->leading_detached_comments[i]);
    return st == LT_OK ? put_block(ctx->out, loc_comment(l)) : st;
}

static lt_status put_file(doc_ctx *ctx, const FileDesc *f)
{
    lt_status st;
    ctx->file = f;
    ctx->depth = 0;
    st = lt_buf_appendf(ctx->out, "### File `%s`\n\n", f->name);
    if (st == LT_OK)
        st = put_file_comment(ctx);
    for (size_t i = 0; i < f->n_message_type && st == LT_OK; i++) {
        st = push(ctx, P_FILE_MESSAGE, (int32_t)i);
        if (st == LT_OK)
            st = put_message(ctx, f->message_type[i], "");
        ctx->depth = 0;
    }
    for (size_t i = 0; i < f->n_enum_type && st == LT_OK; i++) {
        st = push(ctx, P_FILE_ENUM, (int32_t)i);
        if (st == LT_OK)
            st = put_enum(ctx, f->enum_type[i], "");
        ctx->depth = 0;
    }
    for (size_t i = 0; i < f->n_service && st == LT_OK; i++) {
        st = push(ctx, P_FILE_SERVICE, (int32_t)i);
        if (st == LT_OK)
            st = put_service(ctx, f->service[i]);
        ctx->depth = 0;
    }
    return st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Documented package names, sorted and unique. Caller frees the array. */
static lt_status list_packages(const FileSet *set, const char ***new_pkgs, size_t *out_n)
{
    size_t n = 0;
    const char **pkgs = lt_calloc(set->n_file + 1, sizeof(*pkgs));
    if (!pkgs)
        return LT_FAIL(LT_ERR_NOMEM, "package list");
    for (size_t i = 0; i < set->n_file; i++)
        if (is_documented(set->file[i]))
            pkgs[n++] = set->file[i]->package ? set->file[i]->package : "";
    qsort(pkgs, n, sizeof(*pkgs), cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || strcmp(pkgs[u - 1], pkgs[i]) != 0)
            pkgs[u++] = pkgs[i];
    *new_pkgs = pkgs;
    *out_n = u;
    return LT_OK;
}

static lt_status put_document(const FileSet *set, lt_buf *out)
{
    doc_ctx ctx = { .set = set, .out = out };
    const char **pkgs = NULL;
    size_t npkg = 0;
    lt_status st = list_packages(set, &pkgs, &npkg);
    if (st == LT_OK)
        st = lt_buf_appends(
            out, "# latticed protocol reference\n\n"
                 "<!-- Generated by schemas/gendoc/lt_gendoc from schemas/**/*.proto. "
                 "Do not edit: change the .proto comments and rebuild. -->\n\n"
                 "Every wire structure of latticed, generated from the `.proto` files in "
                 "`schemas/` and their comments. JSON names are the proto3 JSON mapping.\n\n");
    for (size_t p = 0; p < npkg && st == LT_OK; p++)
        st = lt_buf_appendf(out, "- [`%s`](#package-%s)\n", pkgs[p], pkgs[p]);
    for (size_t p = 0; p < npkg && st == LT_OK; p++) {
        st = lt_buf_appendf(out, "\n<a id=\"package-%s\"></a>\n\n## Package `%s`\n\n", pkgs[p],
                            pkgs[p]);
        for (size_t i = 0; i < set->n_file && st == LT_OK; i++) {
            const FileDesc *f = set->file[i];
            if (is_documented(f) && strcmp(f->package ? f->package : "", pkgs[p]) == 0)
                st = put_file(&ctx, f);
        }
    }
    lt_free(pkgs);
    return st;
}

static lt_status read_file(const char *path, uint8_t **new_data, size_t *out_len)
{
    lt_status st = LT_OK;
    uint8_t *data = NULL;
    size_t len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return LT_FAIL(LT_ERR_IO, "cannot open %s", path);
    data = lt_malloc(GENDOC_MAX_INPUT + 1);
    if (!data) {
        st = LT_FAIL(LT_ERR_NOMEM, "input buffer");
        goto out;
    }
    len = fread(data, 1, GENDOC_MAX_INPUT + 1, fp);
    if (ferror(fp))
        st = LT_FAIL(LT_ERR_IO, "cannot read %s", path);
    else if (len > GENDOC_MAX_INPUT)
        st = LT_FAIL(LT_ERR_TOO_BIG, "%s is larger than %u bytes", path, GENDOC_MAX_INPUT);
out:
    fclose(fp);
    if (st != LT_OK) {
        lt_free(data);
        return st;
    }
    *new_data = data;
    *out_len = len;
    return LT_OK;
}

static lt_status write_file(const char *path, const lt_buf *doc)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return LT_FAIL(LT_ERR_IO, "cannot create %s", path);
    size_t n = fwrite(doc->ptr, 1, doc->len, fp);
    if (fclose(fp) != 0 || n != doc->len)
        return LT_FAIL(LT_ERR_IO, "cannot write %s", path);
    return LT_OK;
}

static lt_status gendoc(const char *in_path, const char *out_path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    FileSet *set = NULL;
    lt_buf doc;
    lt_buf_init(&doc, GENDOC_MAX_DOC);
    lt_status st = read_file(in_path, &data, &len);
    if (st != LT_OK)
        goto out;
    set = google__protobuf__file_descriptor_set__unpack(NULL, len, data);
    if (!set) {
        st = LT_FAIL(LT_ERR_PARSE, "%s is not a FileDescriptorSet", in_path);
        goto out;
    }
    st = put_document(set, &doc);
    if (st == LT_OK)
        st = write_file(out_path, &doc);
out:
    if (set)
        google__protobuf__file_descriptor_set__free_unpacked(set, NULL);
    lt_free(data);
    lt_buf_cleanup(&doc);
    return st;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: lt_gendoc <descriptor-set.pb> <out.md>\n");
        return 2;
    }
    lt_status st = gendoc(argv[1], argv[2]);
    if (st != LT_OK) {
        fprintf(stderr, "lt_gendoc: %s: %s\n", lt_status_str(st), lt_error_message());
        return 1;
    }
    return 0;
}
