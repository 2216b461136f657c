// CUPTI injection library (CUDA_INJECTION64_PATH=libcupti_trace.so): writes every kernel, memset, memcpy and
// driver-API call of the process (start/end ns) to $CUPTI_TRACE_OUT, to see where a call's time goes.
#include <cupti.h>
#include <stdio.h>
#include <stdlib.h>
static FILE *out;
static void CUPTIAPI req(uint8_t **b, size_t *s, size_t *m) { *s = 16 << 20; *b = aligned_alloc(8, *s); *m = 0; }
static void CUPTIAPI done(CUcontext c, uint32_t sid, uint8_t *b, size_t s, size_t valid) {
  CUpti_Activity *r = NULL;
  while (cuptiActivityGetNextRecord(b, valid, &r) == CUPTI_SUCCESS) {
    if (r->kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL || r->kind == CUPTI_ACTIVITY_KIND_KERNEL) {
      KTYPE *k = (KTYPE *)r;
      fprintf(out, "K %llu %llu %s\n", (unsigned long long)k->start, (unsigned long long)k->end, k->name);
    } else if (r->kind == CUPTI_ACTIVITY_KIND_MEMSET) {
      CUpti_ActivityMemset4 *k = (CUpti_ActivityMemset4 *)r;
      fprintf(out, "S %llu %llu memset %llu\n", (unsigned long long)k->start, (unsigned long long)k->end, (unsigned long long)k->bytes);
    } else if (r->kind == CUPTI_ACTIVITY_KIND_DRIVER) {
      CUpti_ActivityAPI *a = (CUpti_ActivityAPI *)r;
      const char *n = "?"; cuptiGetCallbackName(CUPTI_CB_DOMAIN_DRIVER_API, a->cbid, &n);
      fprintf(out, "D %llu %llu %s %u\n", (unsigned long long)a->start, (unsigned long long)a->end, n, a->threadId);
    }
  }
  free(b);
}
static void fin(void) { cuptiActivityFlushAll(1); fclose(out); }
int InitializeInjection(void) {
  const char *p = getenv("CUPTI_TRACE_OUT");
  out = fopen(p ? p : "/tmp/cupti_trace.txt", "w");
  cuptiActivityRegisterCallbacks(req, done);
  cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMSET);
  cuptiActivityEnable(CUPTI_ACTIVITY_KIND_DRIVER);
  atexit(fin);
  return 1;
}
