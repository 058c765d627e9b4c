package environments

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/gpuprobe/report"
)

var std = plan.GPUMetrics{
	Util: "DCGM_FI_DEV_GPU_UTIL", SMActive: "DCGM_FI_PROF_SM_ACTIVE", FBUsed: "DCGM_FI_DEV_FB_USED",
	FBFree: "DCGM_FI_DEV_FB_FREE", Power: "DCGM_FI_DEV_POWER_USAGE", Temp: "DCGM_FI_DEV_GPU_TEMP",
	MemTemp: "DCGM_FI_DEV_MEMORY_TEMP", XID: "DCGM_FI_DEV_XID_ERRORS",
	ECCDBE: "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", ClockEvents: "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", HostLabel: "Hostname",
}

var safe = []string{"util", "fbUsed", "fbFree", "power", "temp", "xid"}

func readReport(t *testing.T, name string) report.Report {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "gpuprobe", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := report.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSeverityDowngradesPagesWherePagingIsOff(t *testing.T) {
	tests := []struct {
		name   string
		paging bool
		want   string
		got    string
	}{
		{"a page stays a page where paging is on", true, Page, Page},
		{"a page notifies where paging is off", false, Page, Notify},
		{"a notification stays a notification", true, Notify, Notify},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Severity(&plan.Environment{Paging: tt.paging}, tt.want); got != tt.got {
				t.Errorf("Severity = %q, want %q", got, tt.got)
			}
		})
	}
}

func TestGPUWithoutReportKeepsTheSafeSet(t *testing.T) {
	got := GPU(std, safe, nil)
	want := std
	want.SMActive, want.MemTemp, want.ECCDBE, want.ClockEvents = "", "", "", ""
	want.UtilUnit = "percent"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestGPUFollowsTheProbeReports(t *testing.T) {
	tests := []struct {
		name    string
		reports []string
		check   func(t *testing.T, g plan.GPUMetrics)
	}{
		{"a data-centre GPU keeps profiling, ECC and clock events", []string{"datacenter"}, func(t *testing.T, g plan.GPUMetrics) {
			for name, v := range map[string]string{"sm": g.SMActive, "ecc": g.ECCDBE, "clock": g.ClockEvents, "util": g.Util} {
				if v == "" {
					t.Errorf("%s dropped on a data-centre GPU", name)
				}
			}
		}},
		{"a consumer GPU drops profiling and ECC", []string{"consumer"}, func(t *testing.T, g plan.GPUMetrics) {
			if g.SMActive != "" || g.ECCDBE != "" {
				t.Errorf("kept SMActive %q, ECCDBE %q on a consumer GPU", g.SMActive, g.ECCDBE)
			}
			if len(g.Notes) == 0 {
				t.Error("no note says why metrics were dropped")
			}
		}},
		{"a MIG GPU swaps utilisation for the engine-active ratio", []string{"mig"}, func(t *testing.T, g plan.GPUMetrics) {
			if g.Util != "DCGM_FI_PROF_GR_ENGINE_ACTIVE" || g.UtilUnit != "percentunit" {
				t.Errorf("Util = %q (%s), want DCGM_FI_PROF_GR_ENGINE_ACTIVE as percentunit", g.Util, g.UtilUnit)
			}
		}},
		{"two GPU classes keep only what both report", []string{"datacenter", "consumer"}, func(t *testing.T, g plan.GPUMetrics) {
			if g.SMActive != "" {
				t.Errorf("kept SMActive %q though the consumer class lacks it", g.SMActive)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rs []report.Report
			for _, n := range tt.reports {
				rs = append(rs, readReport(t, n))
			}
			tt.check(t, GPU(std, safe, rs))
		})
	}
}
