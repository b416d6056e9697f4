package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

// summary condenses a scenario's runs for one method: medians of rates
// and CPU times, maxima of memory and disk figures.
type summary struct {
	MiBps                        float64
	ClientCPU, ServerCPU, MinIOC float64 // CPU seconds per GiB uploaded
	PeakRSS, TmpPeak, Disk       int64
	server                       bool
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := len(xs)
	return (xs[(n-1)/2] + xs[n/2]) / 2
}

func summarize(results []result) summary {
	var s summary
	var rates, client, server, minio []float64
	for _, r := range results {
		rates = append(rates, r.MiBps())
		client = append(client, r.perGiB(r.ClientCPU))
		minio = append(minio, r.perGiB(r.MinIOCPU))
		if r.Server != nil {
			s.server = true
			server = append(server, r.perGiB(r.Server.CPU))
			s.PeakRSS = max(s.PeakRSS, r.Server.PeakRSS)
			s.TmpPeak = max(s.TmpPeak, r.Server.TmpPeak)
			s.Disk = max(s.Disk, r.Server.DiskWritten)
		}
	}
	s.MiBps, s.ClientCPU, s.ServerCPU, s.MinIOC = median(rates), median(client), median(server), median(minio)
	return s
}

// printReport writes every run, then per scenario a Markdown table with
// the ratios the targets are stated in.
func printReport(w io.Writer, scenarios []scenario, methods []string, results []result) {
	fmt.Fprintln(w, "Runs:")
	loadMin, loadMax := 0.0, 0.0
	for i, r := range results {
		if i == 0 || r.Load < loadMin {
			loadMin = r.Load
		}
		loadMax = max(loadMax, r.Load)
		line := fmt.Sprintf("  %-16s %-13s rep %d  %7.1f MiB/s  %8s  load %4.2f  CPU s/GiB client %.2f MinIO %.2f",
			r.Scenario, r.Method, r.Rep, r.MiBps(), r.Elapsed.Round(time.Millisecond), r.Load, r.perGiB(r.ClientCPU), r.perGiB(r.MinIOCPU))
		if r.Server != nil {
			line += fmt.Sprintf(" server %.2f  peak RSS %s  temp peak %s  disk written %s",
				r.perGiB(r.Server.CPU), mib(r.Server.PeakRSS), size(r.Server.TmpPeak), size(r.Server.DiskWritten))
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "Load average (1 min) at the end of the runs: %.2f–%.2f\n", loadMin, loadMax)
	for _, sc := range scenarios {
		by := map[string]summary{}
		fmt.Fprintf(w, "\n### %s\n\n", sc)
		fmt.Fprintln(w, "| method | MiB/s (median) | CPU s/GiB client | server | MinIO | server peak RSS | temp dir peak | disk written |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
		for _, m := range methods {
			var rs []result
			for _, r := range results {
				if r.Scenario == sc && r.Method == m {
					rs = append(rs, r)
				}
			}
			if len(rs) == 0 {
				continue
			}
			s := summarize(rs)
			by[m] = s
			if s.server {
				fmt.Fprintf(w, "| %s | %.1f | %.2f | %.2f | %.2f | %s | %s | %s |\n", m, s.MiBps, s.ClientCPU, s.ServerCPU, s.MinIOC,
					mib(s.PeakRSS), size(s.TmpPeak), size(s.Disk))
			} else {
				fmt.Fprintf(w, "| %s | %.1f | %.2f | – | %.2f | – | – | – |\n", m, s.MiBps, s.ClientCPU, s.MinIOC)
			}
		}
		var ratios []string
		tg, ok := by["tusgate"]
		for _, other := range []string{"sdk", "tusd", "tusd-defaults", "tusgate-alt"} {
			if o, ok2 := by[other]; ok && ok2 && o.MiBps > 0 {
				ratios = append(ratios, fmt.Sprintf("tusgate/%s = %.2f×", other, tg.MiBps/o.MiBps))
			}
		}
		if len(ratios) > 0 {
			fmt.Fprintf(w, "\n%s\n", strings.Join(ratios, ", "))
		}
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func size(n int64) string {
	if n == 0 {
		return "0 B"
	}
	return humanize.IBytes(uint64(n))
}
