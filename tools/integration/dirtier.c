/*
 * Guest memory dirtier for the real libvirt + QEMU integration tests.
 *
 * Writes every page of a buffer, pass after pass, doing a fixed amount of
 * CPU work per page so that its dirty rate follows the vCPU time it gets
 * (and so drops when QEMU's auto-converge throttles the vCPU).  Before
 * writing a page it checks the two words the previous pass wrote there:
 * a page that a migration lost or misplaced shows up as a bad page.
 *
 * Usage: dirtier MIB WORK   (MiB to dirty, work loop iterations per page)
 * Prints once a second: "dirtier: pass=P bad=B rate=R" (R in MiB/s of
 * pages written), and "dirtier: CORRUPT page=I ..." for the first bad
 * pages.  A static binary: it runs as the guest's only program.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define WORDS (PAGE / sizeof(uint64_t))
#define MAX_REPORTED 10

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void say(const char *line)
{
    /* One write per line: the serial console may be shared. */
    ssize_t unused = write(1, line, strlen(line));

    (void)unused;
}

int main(int argc, char **argv)
{
    unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 32;
    unsigned long work = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
    size_t pages = mib * 1024 * 1024 / PAGE;
    uint64_t *buf = aligned_alloc(PAGE, pages * PAGE);
    unsigned long bad = 0, reported = 0, written = 0;
    uint64_t pass;
    double last;
    char line[160];

    if (!buf) {
        say("dirtier: cannot allocate\n");
        return 1;
    }
    snprintf(line, sizeof(line), "dirtier: start mib=%lu work=%lu\n",
             mib, work);
    say(line);
    last = now();
    for (pass = 1;; pass++) {
        for (size_t i = 0; i < pages; i++) {
            volatile uint64_t *page = buf + i * WORDS;
            uint64_t want = ((pass - 1) << 32) | i;
            uint64_t sum = i;

            if (pass > 1 && (page[0] != want || page[WORDS - 1] != ~want)) {
                bad++;
                if (reported++ < MAX_REPORTED) {
                    snprintf(line, sizeof(line),
                             "dirtier: CORRUPT page=%zu pass=%llu "
                             "got=%llx want=%llx\n", i,
                             (unsigned long long)pass,
                             (unsigned long long)page[0],
                             (unsigned long long)want);
                    say(line);
                }
            }
            for (unsigned long w = 0; w < work; w++)
                sum = sum * 6364136223846793005ULL + w;
            want = (pass << 32) | i;
            page[0] = want;
            page[WORDS / 2] = sum;
            page[WORDS - 1] = ~want;
            written++;
        }
        double t = now();

        if (t - last >= 1.0) {
            snprintf(line, sizeof(line),
                     "dirtier: pass=%llu bad=%lu rate=%.1f\n",
                     (unsigned long long)pass, bad,
                     written * (PAGE / 1048576.0) / (t - last));
            say(line);
            written = 0;
            last = t;
        }
    }
}
