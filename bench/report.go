package bench

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/simdbn/simdbn/bn"
)

// Config says what Measure runs.
type Config struct {
	Shapes     []Dims
	Ops        []Op
	Layouts    []bn.Layout
	Impls      []string      // from Impls()
	Goroutines int           // passed to the library when it has a worker option
	Samples    int           // ratios per row; the median is reported
	Target     time.Duration // time of each side (copy, kernel) of one sample
}

// Row is one measured case.
type Row struct {
	Op       Op
	Layout   string // "nchw" or "nhwc"
	Shape    Dims
	Impl     string
	Workers  int           // goroutines in effect
	Time     time.Duration // median time per call
	CopyTime time.Duration // median time of copy() of the same tensor
	Ratio    float64       // median of time / copy time, interleaved
	GBps     float64       // bytes charged / Time
	CopyGBps float64       // 8 B per element / CopyTime
	Speedup  float64       // generic's Ratio / Ratio; 0 when generic was not measured
}

// CheckImpls validates names against Impls(); an empty list means all.
func CheckImpls(names []string) ([]string, error) {
	all := Impls()
	if len(names) == 0 {
		return all, nil
	}
	for _, n := range names {
		ok := false
		for _, a := range all {
			ok = ok || a == n
		}
		if !ok {
			return nil, fmt.Errorf("impl %q: this CPU runs %v", n, all)
		}
	}
	return names, nil
}

// Measure runs every case of cfg (op, then layout, shape, impl) and
// returns the rows. progress, when not nil, gets one line per case.
func Measure(cfg Config, progress io.Writer) ([]Row, error) {
	buf := NewBuffers(MaxLen(cfg.Shapes))
	total := len(cfg.Ops) * len(cfg.Layouts) * len(cfg.Shapes) * len(cfg.Impls)
	var rows []Row
	for _, op := range cfg.Ops {
		for _, l := range cfg.Layouts {
			for _, d := range cfg.Shapes {
				first := len(rows)
				for _, impl := range cfg.Impls {
					k, err := NewKernel(buf, op, d, l, impl, cfg.Goroutines)
					if err != nil {
						return rows, fmt.Errorf("%s %s %s %s: %w", op, LayoutName(l), d.Name, impl, err)
					}
					r := Compare(func() { _ = k.Run() }, buf.Copy(d.Len()), cfg.Samples, cfg.Target)
					k.Close()
					row := Row{
						Op: op, Layout: LayoutName(l), Shape: d, Impl: impl, Workers: k.Workers,
						Time: r.Time, CopyTime: r.CopyTime, Ratio: r.Ratio,
						GBps:     GBps(k.Bytes, r.Time),
						CopyGBps: GBps(CopyBytesPerElem*int64(d.Len()), r.CopyTime),
					}
					rows = append(rows, row)
					if progress != nil {
						fmt.Fprintf(progress, "[%d/%d] %-8s %s %-14s %-9s %9s  %5.2fx copy  %6.1f GB/s\n",
							len(rows), total, op, row.Layout, d.Name, impl, FormatDuration(r.Time), r.Ratio, row.GBps)
					}
				}
				setSpeedups(rows[first:])
			}
		}
	}
	return rows, nil
}

func setSpeedups(rows []Row) {
	for _, g := range rows {
		if g.Impl != "generic" {
			continue
		}
		for i := range rows {
			if rows[i].Ratio > 0 {
				rows[i].Speedup = g.Ratio / rows[i].Ratio
			}
		}
	}
}

// FormatDuration prints d with three or four significant digits.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3fs", d.Seconds())
}

var tableHeader = []string{"op", "layout", "shape", "impl", "time", "x copy", "GB/s", "vs generic"}

func (r Row) cells() []string {
	sp := "-"
	if r.Speedup > 0 {
		sp = fmt.Sprintf("%.2fx", r.Speedup)
	}
	return []string{
		string(r.Op), r.Layout, r.Shape.Name, r.Impl,
		FormatDuration(r.Time), fmt.Sprintf("%.2f", r.Ratio), fmt.Sprintf("%.1f", r.GBps), sp,
	}
}

// WriteTable prints rows as "text" (aligned columns), "markdown" or "csv".
// notes are printed before a text or markdown table, one a line; csv gets
// none (its goroutines column says the same).
func WriteTable(w io.Writer, rows []Row, format string, notes []string) error {
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"op", "layout", "shape", "N", "C", "S", "impl", "goroutines", "time_ns", "copy_time_ns", "ratio_to_copy", "gbps", "copy_gbps", "speedup_vs_generic"})
		for _, r := range rows {
			cw.Write([]string{
				string(r.Op), r.Layout, r.Shape.Name,
				strconv.Itoa(r.Shape.N), strconv.Itoa(r.Shape.C), strconv.Itoa(r.Shape.S),
				r.Impl, strconv.Itoa(r.Workers),
				strconv.FormatInt(int64(r.Time), 10), strconv.FormatInt(int64(r.CopyTime), 10),
				strconv.FormatFloat(r.Ratio, 'f', 4, 64),
				strconv.FormatFloat(r.GBps, 'f', 3, 64), strconv.FormatFloat(r.CopyGBps, 'f', 3, 64),
				strconv.FormatFloat(r.Speedup, 'f', 4, 64),
			})
		}
		cw.Flush()
		return cw.Error()
	case "markdown":
		for _, n := range notes {
			fmt.Fprintf(w, "%s\n\n", n)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(tableHeader, " | "))
		fmt.Fprintf(w, "|%s\n", strings.Repeat(" --- |", 4)+strings.Repeat(" ---: |", len(tableHeader)-4))
		for _, r := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(r.cells(), " | "))
		}
		return nil
	case "text", "":
		for _, n := range notes {
			fmt.Fprintf(w, "# %s\n", n)
		}
		cells := [][]string{tableHeader}
		for _, r := range rows {
			cells = append(cells, r.cells())
		}
		width := make([]int, len(tableHeader))
		for _, c := range cells {
			for i, s := range c {
				width[i] = max(width[i], len([]rune(s)))
			}
		}
		for j, c := range cells {
			if j > 1 && (c[0] != cells[j-1][0] || c[1] != cells[j-1][1]) {
				fmt.Fprintln(w)
			}
			var b strings.Builder
			for i, s := range c {
				pad := strings.Repeat(" ", width[i]-len([]rune(s)))
				if i < 4 {
					b.WriteString(s + pad)
				} else {
					b.WriteString(pad + s)
				}
				if i < len(c)-1 {
					b.WriteString("  ")
				}
			}
			fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		}
		return nil
	}
	return fmt.Errorf("format %q: want text, markdown or csv", format)
}

// WriteSweepCSV prints the rows of a size sweep for bnchart: one line per
// case with the tensor size in bytes (4 B per element), the op's GB/s and
// copy()'s GB/s measured interleaved with it.
func WriteSweepCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"bytes", "shape", "op", "layout", "impl", "goroutines", "gbps", "copy_gbps", "ratio_to_copy", "time_ns"})
	for _, r := range rows {
		cw.Write([]string{
			strconv.FormatInt(r.Shape.Bytes(), 10), r.Shape.Name, string(r.Op), r.Layout, r.Impl,
			strconv.Itoa(r.Workers),
			strconv.FormatFloat(r.GBps, 'f', 3, 64), strconv.FormatFloat(r.CopyGBps, 'f', 3, 64),
			strconv.FormatFloat(r.Ratio, 'f', 4, 64), strconv.FormatInt(int64(r.Time), 10),
		})
	}
	cw.Flush()
	return cw.Error()
}
