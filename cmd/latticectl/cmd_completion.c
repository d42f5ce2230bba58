/*
 * cmd_completion.c - `latticectl completion bash|zsh|fish`: shell completion scripts generated
 * from the command table and each command's options, so they can never list a command or
 * option that does not exist. What a command's positionals are comes from its usage line
 * (NAME: an application, HOST: a host id, lower-case words: themselves); an option's values
 * from its argument name (`table|json|yaml` lists them, `V` is a version of the application).
 * Application, version and host names come from latticed at completion time, through the
 * hidden `latticectl __complete` (cmd_complete.c), with the connection options of the line.
 */
#include <string.h>

#include "lctl_api.h"

/* Option tables: one option per row. */
/* clang-format off */
static const lt_opt completion_options[] = {
    { "help", 'h', NULL, LT_OPT_FLAG, NULL, NULL, "show this help and exit", LCTL_F(help), 0,
      0 },
};
/* clang-format on */

const lt_opts_spec lctl_completion_opts = {
    .prog = "latticectl completion",
    .usage = "latticectl completion bash|zsh|fish",
    .summary = "Print a shell completion script. Load it with e.g.\n"
               "  source <(latticectl completion bash)\n"
               "  latticectl completion zsh > \"${fpath[1]}/_latticectl\"\n"
               "  latticectl completion fish > ~/.config/fish/completions/latticectl.fish\n"
               "Commands, options and option values complete from the command table; "
               "application names, versions (--version) and host ids are asked from latticed, "
               "with the connection options written on the line.",
    .opts = completion_options,
    .nopts = sizeof(completion_options) / sizeof(completion_options[0]),
};

/* ---- what the table says about completions ------------------------------------------------- */

enum {
    NAMES_NONE,
    NAMES_APPS,
    NAMES_HOSTS,
    NAMES_COMMANDS
};

typedef struct {
    char words[256]; /* literal positional words, space-separated ("bash zsh fish") */
    int names;       /* NAMES_*: what else a positional is */
} positionals;

static const lt_opt *find_opt(const lt_opts_spec *spec, const char *word)
{
    for (size_t i = 0; spec != NULL && i < spec->nopts; i++) {
        const lt_opt *o = &spec->opts[i];

        if ((word[1] == '-' && strcmp(word + 2, o->name) == 0) ||
            (word[1] != '-' && word[1] == o->short_name && word[2] == '\0'))
            return o;
    }
    return NULL;
}

/* The positionals of a command, from its usage line ("latticectl deploy NAME [--version V]"). */
static void usage_positionals(const lctl_command *c, positionals *p)
{
    char usage[512], *save = NULL, *tok;
    bool skip = false;
    int n = 0;
    size_t off = 0;

    memset(p, 0, sizeof(*p));
    if (c->opts == NULL)
        return;
    snprintf(usage, sizeof(usage), "%s", c->opts->usage);
    for (tok = strtok_r(usage, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save), n++) {
        size_t len;
        const lt_opt *o;

        tok += strspn(tok, "[");
        len = strcspn(tok, "]");
        tok[len] = '\0';
        if (n < 2 || len == 0 || skip) { /* "latticectl CMD", or an option's value */
            skip = false;
            continue;
        }
        if (tok[0] == '-') {
            o = find_opt(c->opts, tok);
            skip = o != NULL && o->kind != LT_OPT_FLAG;
        } else if (!strcmp(tok, "NAME") || !strcmp(tok, "APP")) {
            p->names = NAMES_APPS;
        } else if (!strcmp(tok, "HOST")) {
            p->names = NAMES_HOSTS;
        } else if (!strcmp(tok, "COMMAND")) {
            p->names = NAMES_COMMANDS;
        } else if (tok[0] >= 'a' && tok[0] <= 'z' &&
                   strspn(tok, "abcdefghijklmnopqrstuvwxyz-|") == len) {
            for (char *w = tok; *w != '\0'; w += strcspn(w, "|"), w += *w == '|') {
                size_t wl = strcspn(w, "|");
                int k = snprintf(p->words + off, sizeof(p->words) - off, "%s%.*s", off ? " " : "",
                                 (int)wl, w);

                if (k > 0 && (size_t)k < sizeof(p->words) - off)
                    off += (size_t)k;
            }
        }
    }
}

/* Does the argument name list the values ("table|json|yaml", "jsonpath=EXPR" alternatives)? */
static bool enumerated(const lt_opt *o)
{
    const char *a = o->argname;

    if (o->kind == LT_OPT_FLAG || a == NULL || strchr(a, '|') == NULL)
        return false;
    for (; *a != '\0'; a += strcspn(a, "|"), a += *a == '|') {
        if (*a < 'a' || *a > 'z')
            return false;
    }
    return true;
}

/* The values of an enumerated option, space-separated; "jsonpath=EXPR" offers "jsonpath=". */
static void values(FILE *out, const lt_opt *o)
{
    bool first = true;

    for (const char *a = o->argname; *a != '\0'; a += strcspn(a, "|"), a += *a == '|') {
        size_t n = strcspn(a, "|"), eq = strcspn(a, "=|");

        fprintf(out, "%s%.*s", first ? "" : " ", (int)(eq < n ? eq + 1 : n), a);
        first = false;
    }
}

static bool is_version(const lt_opt *o)
{
    return o->kind != LT_OPT_FLAG && o->argname != NULL && strcmp(o->argname, "V") == 0;
}

static bool is_conn(const lt_opt *o) /* passed on to __complete */
{
    return o->kind != LT_OPT_FLAG && strcmp(o->name, "output") != 0;
}

/* "-s|--nats-url|..." (sep "|") of the options of spec that take a value (and pass keep). */
static void opt_words(FILE *out, const lt_opts_spec *spec, bool (*keep)(const lt_opt *),
                      const char *sep, const char *suffix, bool *first)
{
    for (size_t i = 0; spec != NULL && i < spec->nopts; i++) {
        const lt_opt *o = &spec->opts[i];

        if (o->kind == LT_OPT_FLAG || (keep != NULL && !keep(o)))
            continue;
        if (o->short_name && suffix[0] == '\0') {
            fprintf(out, "%s-%c", *first ? "" : sep, o->short_name);
            *first = false;
        }
        fprintf(out, "%s--%s%s", *first ? "" : sep, o->name, suffix);
        *first = false;
    }
}

/* Was an option of this name listed for an earlier command, or earlier in this one? */
static bool seen_before(const lctl_command *c, size_t i)
{
    const char *name = c->opts->opts[i].name;

    for (const lctl_command *d = lctl_commands; d <= c; d++) {
        size_t n = d == c ? i : (d->opts ? d->opts->nopts : 0);

        for (size_t k = 0; k < n; k++) {
            if (strcmp(d->opts->opts[k].name, name) == 0)
                return true;
        }
    }
    return false;
}

/* Every option word of any command that takes a value (to skip values when scanning a line). */
static void all_value_opts(FILE *out, const char *sep)
{
    bool first = true;

    for (const lctl_command *c = lctl_commands; c->name != NULL; c++) {
        for (size_t i = 0; c->opts != NULL && i < c->opts->nopts; i++) {
            const lt_opt *o = &c->opts->opts[i];

            if (o->kind == LT_OPT_FLAG || seen_before(c, i))
                continue;
            if (o->short_name)
                fprintf(out, "%s-%c", first ? "" : sep, o->short_name);
            fprintf(out, "%s--%s", first && !o->short_name ? "" : sep, o->name);
            first = false;
        }
    }
    if (first)
        fputs("--", out);
}

static void words_of(const lt_opts_spec *spec, FILE *out)
{
    for (size_t i = 0; spec != NULL && i < spec->nopts; i++) {
        fprintf(out, " --%s", spec->opts[i].name);
        if (spec->opts[i].short_name)
            fprintf(out, " -%c", spec->opts[i].short_name);
    }
}

static void command_names(FILE *out, const char *sep)
{
    for (const lctl_command *c = lctl_commands; c->name != NULL; c++)
        fprintf(out, "%s%s", c == lctl_commands ? "" : sep, c->name);
}

static const char *const names_kind[] = { "", "apps", "hosts", "commands" };

/* ---- bash ------------------------------------------------------------------------------------ */

static void bash_prev_cases(FILE *out, const lctl_command *c)
{
    bool first = true;

    fputs("        case $prev in\n", out);
    for (size_t i = 0; c->opts != NULL && i < c->opts->nopts; i++) {
        const lt_opt *o = &c->opts->opts[i];

        if (!enumerated(o) && !is_version(o))
            continue;
        fputs("        ", out);
        if (o->short_name)
            fprintf(out, "-%c|", o->short_name);
        fprintf(out, "--%s) COMPREPLY=($(compgen -W \"", o->name);
        if (enumerated(o))
            values(out, o);
        else
            fputs("$(_latticectl_names versions \"$app\")", out);
        fputs("\" -- \"$cur\")); _latticectl_nospace; return ;;\n", out);
    }
    fputs("        ", out);
    opt_words(out, c->opts, NULL, "|", "", &first);
    if (first)
        fputs("--", out);
    fputs(") return ;; # a file or a free value: the default completion\n        esac\n", out);
}

static void bash(FILE *out)
{
    bool first = true;

    fputs("# bash completion for latticectl (generated by `latticectl completion bash`)\n"
          "# _latticectl_names KIND [APP]: names from latticed (apps, versions APP, hosts), with\n"
          "# the connection options of the line; nothing when latticed cannot be asked.\n"
          "_latticectl_names() {\n"
          "    local i w a=() words=(\"${COMP_WORDS[@]}\")\n"
          "    [[ -n ${COMP_LINE-} ]] && read -ra words <<<\"$COMP_LINE\" # URLs keep their ':'\n"
          "    for ((i = 1; i < ${#words[@]}; i++)); do\n"
          "        w=${words[i]}\n"
          "        case $w in\n        ",
          out);
    opt_words(out, &lctl_complete_opts, is_conn, "|", "", &first);
    fputs(") a+=(\"$w\" \"${words[i+1]}\"); ((i++)) ;;\n        ", out);
    first = true;
    opt_words(out, &lctl_complete_opts, is_conn, "|", "=*", &first);
    fputs(") a+=(\"$w\") ;;\n"
          "        esac\n"
          "    done\n"
          "    \"${COMP_WORDS[0]}\" __complete \"$@\" \"${a[@]}\" 2>/dev/null\n"
          "}\n"
          "_latticectl_nospace() { # after a value ending in '=' (jsonpath=): no space\n"
          "    [[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *= ]] &&"
          " compopt -o nospace 2>/dev/null\n"
          "    return 0\n"
          "}\n"
          "_latticectl() {\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
          "    local cmd='' app='' n=0 w i opts='' words='' names=''\n"
          "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "        w=${COMP_WORDS[i]}\n"
          "        case $w in\n        ",
          out);
    all_value_opts(out, "|");
    fputs(") ((i++)) ;;\n"
          "        -*) ;;\n"
          "        *) if [[ -z $cmd ]]; then cmd=$w; else [[ -z $app ]] && app=$w; ((n++)); fi ;;\n"
          "        esac\n"
          "    done\n"
          "    case $cmd in\n"
          "    '') opts='",
          out);
    command_names(out, " ");
    fputs(" --help --version' ;;\n", out);
    for (const lctl_command *c = lctl_commands; c->name != NULL; c++) {
        positionals p;

        usage_positionals(c, &p);
        fprintf(out, "    %s)\n", c->name);
        bash_prev_cases(out, c);
        fputs("        opts='", out);
        words_of(c->opts, out);
        fprintf(out, "' words='%s' names=%s ;;\n", p.words, names_kind[p.names]);
    }
    fputs("    esac\n"
          "    if [[ $cur == -* || -z $cmd ]]; then\n"
          "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
          "        return\n"
          "    fi\n"
          "    # a positional: the usage's words first, then names (after the words, if any)\n"
          "    if [[ -n $words && $n == 0 ]]; then\n"
          "        names=''\n"
          "    elif [[ -n $words || $n != 0 ]]; then\n"
          "        words=''\n"
          "        [[ $names == hosts ]] || names=''\n"
          "    fi\n"
          "    case $names in\n"
          "    apps) words=$(_latticectl_names apps) ;;\n"
          "    hosts) words=$(_latticectl_names hosts) ;;\n"
          "    commands) words='",
          out);
    command_names(out, " ");
    fputs("' ;;\n"
          "    esac\n"
          "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
          "}\n"
          "complete -o default -F _latticectl latticectl\n",
          out);
}

/* ---- zsh ------------------------------------------------------------------------------------- */

static void quoted(FILE *out, const char *s)
{
    for (; *s && *s != '\n'; s++) {
        if (*s == '\'')
            fputs("'\\''", out);
        else if (*s == ':' || *s == '[' || *s == ']')
            fprintf(out, "\\%c", *s);
        else
            fputc(*s, out);
    }
}

static void zsh_option(FILE *out, const lt_opt *o, const char *word)
{
    fprintf(out, "            '%s[", word);
    quoted(out, o->help);
    fputc(']', out);
    if (enumerated(o)) {
        fputs(":value:(", out);
        values(out, o);
        fputc(')', out);
    } else if (is_version(o)) {
        fputs(":version:_latticectl_versions", out);
    } else if (o->kind != LT_OPT_FLAG) {
        fputs(":value:_files", out);
    }
    fputs("' \\\n", out);
}

static void zsh_positionals(FILE *out, const lctl_command *c)
{
    static const char *const action[] = { "", ":application:_latticectl_apps",
                                          ":host:_latticectl_hosts", ":command:(" };
    positionals p;

    usage_positionals(c, &p);
    if (p.words[0] != '\0') {
        fprintf(out, "            '1:word:(%s)'", p.words);
        if (p.names == NAMES_HOSTS)
            fputs(" \\\n            '*:host:_latticectl_hosts'", out);
    } else if (p.names == NAMES_COMMANDS) {
        fprintf(out, "            '1%s", action[p.names]);
        command_names(out, " ");
        fputs(")'", out);
    } else if (p.names != NAMES_NONE) {
        fprintf(out, "            '1%s'", action[p.names]);
    } else {
        fputs("            '*:argument:_files'", out);
    }
    fputc('\n', out);
}

static void zsh(FILE *out)
{
    bool first = true;

    fputs("#compdef latticectl\n"
          "# zsh completion for latticectl (generated by `latticectl completion zsh`)\n"
          "# _latticectl_names KIND [APP]: names from latticed, with the line's connection "
          "options\n"
          "_latticectl_names() {\n"
          "    local -a a\n"
          "    local i\n"
          "    for ((i = 1; i <= $#words; i++)); do\n"
          "        case ${words[i]} in\n        ",
          out);
    opt_words(out, &lctl_complete_opts, is_conn, "|", "", &first);
    fputs(") a+=(${words[i]} ${words[i+1]}); ((i++)) ;;\n        ", out);
    first = true;
    opt_words(out, &lctl_complete_opts, is_conn, "|", "=*", &first);
    fputs(") a+=(${words[i]}) ;;\n"
          "        esac\n"
          "    done\n"
          "    $_latticectl_bin __complete \"$@\" $a 2>/dev/null\n"
          "}\n"
          "_latticectl_apps() {\n"
          "    local -a n; n=(${(f)\"$(_latticectl_names apps)\"}); compadd -a n\n"
          "}\n"
          "_latticectl_hosts() {\n"
          "    local -a n; n=(${(f)\"$(_latticectl_names hosts)\"}); compadd -a n\n"
          "}\n"
          "_latticectl_versions() { # of the application: the first positional\n"
          "    local i app='' ; local -a n\n"
          "    for ((i = 2; i < CURRENT; i++)); do\n"
          "        case ${words[i]} in\n        ",
          out);
    all_value_opts(out, "|");
    fputs(") ((i++)) ;;\n"
          "        -*) ;;\n"
          "        *) app=${words[i]}; break ;;\n"
          "        esac\n"
          "    done\n"
          "    [[ -n $app ]] || return 1\n"
          "    n=(${(f)\"$(_latticectl_names versions $app)\"}); compadd -a n\n"
          "}\n"
          "_latticectl() {\n"
          "    local -a commands\n"
          "    local _latticectl_bin=${words[1]}\n"
          "    commands=(\n",
          out);
    for (const lctl_command *c = lctl_commands; c->name != NULL; c++) {
        fprintf(out, "        '%s:", c->name);
        quoted(out, c->summary);
        fputs("'\n", out);
    }
    fputs("    )\n"
          "    if (( CURRENT == 2 )); then\n"
          "        _describe -t commands 'latticectl command' commands\n"
          "        return\n"
          "    fi\n"
          "    local cmd=${words[2]}\n"
          "    shift words\n"
          "    (( CURRENT-- ))\n"
          "    case $cmd in\n",
          out);
    for (const lctl_command *c = lctl_commands; c->name != NULL; c++) {
        fprintf(out, "    %s)\n        _arguments \\\n", c->name);
        for (size_t i = 0; c->opts != NULL && i < c->opts->nopts; i++) {
            const lt_opt *o = &c->opts->opts[i];
            char word[80];

            snprintf(word, sizeof(word), "--%s", o->name);
            zsh_option(out, o, word);
            if (o->short_name) {
                snprintf(word, sizeof(word), "-%c", o->short_name);
                zsh_option(out, o, word);
            }
        }
        zsh_positionals(out, c);
        fputs("        ;;\n", out);
    }
    fputs("    esac\n}\n_latticectl \"$@\"\n", out);
}

/* ---- fish ------------------------------------------------------------------------------------ */

static void fish_functions(FILE *out)
{
    bool first = true;

    fputs("# __latticectl_names KIND [APP]: names from latticed, with the line's connection "
          "options\n"
          "function __latticectl_names\n"
          "    set -l tok (commandline -opc)\n"
          "    set -l a\n"
          "    set -l i 2\n"
          "    while test $i -le (count $tok)\n"
          "        switch $tok[$i]\n"
          "            case ",
          out);
    opt_words(out, &lctl_complete_opts, is_conn, " ", "", &first);
    fputs("\n"
          "                if test $i -lt (count $tok)\n"
          "                    set a $a $tok[$i] $tok[(math $i + 1)]\n"
          "                end\n"
          "                set i (math $i + 1)\n"
          "            case ",
          out);
    first = true;
    opt_words(out, &lctl_complete_opts, is_conn, " ", "=\\*", &first);
    fputs("\n"
          "                set a $a $tok[$i]\n"
          "        end\n"
          "        set i (math $i + 1)\n"
          "    end\n"
          "    command $tok[1] __complete $argv $a 2>/dev/null\n"
          "end\n"
          "# __latticectl_app: the application named on the line (the first positional)\n"
          "function __latticectl_app\n"
          "    set -l tok (commandline -opc)\n"
          "    set -l i 3\n"
          "    while test $i -le (count $tok)\n"
          "        switch $tok[$i]\n"
          "            case ",
          out);
    all_value_opts(out, " ");
    fputs("\n"
          "                set i (math $i + 1)\n"
          "            case '-*'\n"
          "            case '*'\n"
          "                echo $tok[$i]\n"
          "                return\n"
          "        end\n"
          "        set i (math $i + 1)\n"
          "    end\n"
          "end\n",
          out);
}

static void fish(FILE *out)
{
    fputs("# fish completion for latticectl (generated by `latticectl completion fish`)\n"
          "complete -c latticectl -f\n",
          out);
    fish_functions(out);
    for (const lctl_command *c = lctl_commands; c->name != NULL; c++) {
        positionals p;

        fprintf(out, "complete -c latticectl -n '__fish_use_subcommand' -a %s -d '", c->name);
        quoted(out, c->summary);
        fputs("'\n", out);
        for (size_t i = 0; c->opts != NULL && i < c->opts->nopts; i++) {
            const lt_opt *o = &c->opts->opts[i];

            fprintf(out, "complete -c latticectl -n '__fish_seen_subcommand_from %s' -l %s",
                    c->name, o->name);
            if (o->short_name)
                fprintf(out, " -s %c", o->short_name);
            if (enumerated(o)) {
                fputs(" -r -f -a '", out);
                values(out, o);
                fputc('\'', out);
            } else if (is_version(o)) {
                fputs(" -r -f -a '(__latticectl_names versions (__latticectl_app))'", out);
            } else if (o->kind != LT_OPT_FLAG) {
                fputs(" -r -F", out);
            }
            fputs(" -d '", out);
            quoted(out, o->help);
            fputs("'\n", out);
        }
        usage_positionals(c, &p);
        if (p.words[0] != '\0')
            fprintf(out, "complete -c latticectl -n '__fish_seen_subcommand_from %s' -a '%s'\n",
                    c->name, p.words);
        if (p.names == NAMES_APPS || p.names == NAMES_HOSTS)
            fprintf(out,
                    "complete -c latticectl -n '__fish_seen_subcommand_from %s' "
                    "-a '(__latticectl_names %s)'\n",
                    c->name, names_kind[p.names]);
        else if (p.names == NAMES_COMMANDS) {
            fprintf(out, "complete -c latticectl -n '__fish_seen_subcommand_from %s' -a '",
                    c->name);
            command_names(out, " ");
            fputs("'\n", out);
        }
    }
}

int lctl_cmd_completion(const lctl_command *cmd, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "bash") == 0)
        bash(stdout);
    else if (argc == 2 && strcmp(argv[1], "zsh") == 0)
        zsh(stdout);
    else if (argc == 2 && strcmp(argv[1], "fish") == 0)
        fish(stdout);
    else if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
        lctl_command_help(cmd);
    else {
        fprintf(stderr, "latticectl completion: name a shell: bash, zsh or fish\n");
        return LCTL_EXIT_USAGE;
    }
    return LCTL_EXIT_OK;
}
