/*
 * QTest for egpu-pci's command lines: apple-dma-pci after the egpu-pci it
 * manages (the other order is egpu-pci-test's) with the DART knobs set on
 * the egpu-pci, and the command lines QEMU must refuse, with controls that
 * start in both orders.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "egpu-pci-qtest.h"

/* ---- apple-dma-pci after the egpu-pci, and the DART knobs there */

static void test_order(void)
{
    Gpu *g = gpu_start_order(",vram-size=0x400000,aperture-base=0x40000000,"
                             "max-maps=8,seg-pages=1", true);
    uint32_t id = adma_reg(&g->t, ADMA_REG_MANAGED_ID);

    g_assert_cmphex(id, ==, ADMA_MANAGED_VALID | QPCI_DEVFN(GPU_SLOT, 0));
    g_assert(adma_reg(&g->t, ADMA_REG_FEATURES) & ADMA_F_IOMMU_SIM);
    /* the core takes the egpu DART's limits */
    g_assert_cmpuint(adma_reg(&g->t, ADMA_REG_LIMIT_MAPS), ==, 8);
    gpu_engine_start(g);
    g_assert_cmphex(g->ring_iova, >=, 0x40000000);
    g_assert_cmphex(g->ring_iova, <, 0x40000000 + (3ull << 29));
    gpu_fence(g, 0x42, false, 0);
    g_assert_cmpint(GPU_STAT(g, "dart_maps"), ==, 3);
    g_assert_cmpint(ADMA_STAT(g, "live_maps"), ==, 3);
    gpu_stop(g);
}

/* ---- command lines QEMU must refuse */

static void test_bad_config(void)
{
    static const char *const cases[][2] = {
        { "-device egpu-pci", "'backend' is required (available: simgpu, "
          "dext)" },
        { "-device egpu-pci,backend=foo", "unknown backend 'foo' "
          "(available: simgpu, dext)" },
        { "-device egpu-pci,backend=dext,host=nosuch", "dext" },
        { "-device egpu-pci,backend=dext,vram-size=0x100000",
          "only apply to backend simgpu" },
        { "-device egpu-pci,backend=simgpu,host=x", "'host'" },
        { "-device egpu-pci,backend=simgpu,map-bars=on",
          "map-bars=on, but BAR0" },
        { "-device egpu-pci,backend=simgpu,vram-size=0x3000", "vram-size" },
        { "-device egpu-pci,backend=simgpu,vram-size=0x4000000000000",
          "vram-size" },
        { "-device egpu-pci,backend=simgpu,msix-vectors=2049",
          "msix-vectors" },
        { "-device egpu-pci,backend=simgpu,fail-ppm=1000001", "fail-ppm" },
        { "-device egpu-pci,backend=simgpu,aperture-base=0x1001",
          "multiples" },
        { "-device egpu-pci,backend=simgpu,max-maps=0x7fffffff", "max-maps" },
        { "-device apple-dma-pci,managed=gpu0,max-bytes=0x100000 "
          "-device egpu-pci,id=gpu0,backend=simgpu",
          "'max-bytes' is not ours to set when managing egpu-pci 'gpu0'" },
        { "-device egpu-pci,id=gpu0,backend=simgpu "
          "-device apple-dma-pci,managed=gpu0,randomize=on",
          "'randomize' is not ours to set when managing egpu-pci 'gpu0'" },
        { "-device egpu-pci,id=gpu0,backend=simgpu "
          "-device apple-dma-pci,managed=gpu0,backend=dartsim",
          "'backend' is not ours to set" },
    };
    g_autofree char *qmp_in = cmdline_quit_file();
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        cmdline_expect_refusal(qmp_in, cases[i][0], cases[i][1]);
    }
    /* the controls: good lines start (and quit), in both orders */
    for (i = 0; i < 2; i++) {
        g_autofree char *err = NULL;
        const char *adma = "-device apple-dma-pci,managed=gpu0 ";
        g_autofree char *line = g_strdup_printf(
            "%s-device egpu-pci,id=gpu0,backend=simgpu,map-bars=off %s",
            i ? "" : adma, i ? adma : "");

        g_assert_cmpint(cmdline_exit_status(qmp_in, line, &err), ==, 0);
    }
    unlink(qmp_in);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/egpu-pci/order", test_order);
    qtest_add_func("/egpu-pci/bad-config", test_bad_config);
    return g_test_run();
}
