// Command bnchart draws the size sweep of bnbench as a PNG: GB/s against
// tensor size (log scale) for train, infer and backward, one panel each,
// one line per implementation (dashed for channels last), with copy() of
// the same tensor, measured interleaved, as the roof line.
//
// It is its own module so that gonum.org/v1/plot never enters the
// library's go.mod. From the repository root:
//
//	go run ./bench/cmd/bnbench -sizes > bench/sizes.csv
//	go -C bench/cmd/bnchart run . -in ../../sizes.csv -out ../../chart.png
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

type point struct {
	bytes      float64
	op, layout string
	impl       string
	gbps, copy float64
}

var ops = []string{"train", "infer", "backward"}

var palette = map[string]color.Color{
	"avx512":    color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	"avx2":      color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	"generic":   color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	"naive-f64": color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
}

var extra = []color.Color{
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff},
}

func main() {
	in := flag.String("in", "-", "csv of bnbench -sizes (- for stdin)")
	out := flag.String("out", "chart.png", "PNG to write")
	width := flag.Float64("width", 15, "width in inches")
	height := flag.Float64("height", 5, "height in inches")
	dpi := flag.Int("dpi", 110, "resolution in dots per inch")
	flag.Parse()

	r := io.Reader(os.Stdin)
	if *in != "-" {
		f, err := os.Open(*in)
		fail(err)
		defer f.Close()
		r = f
	}
	pts, err := read(r)
	fail(err)
	if len(pts) == 0 {
		fail(fmt.Errorf("no rows in %s", *in))
	}

	var impls, layouts []string
	for _, p := range pts {
		if !slices.Contains(impls, p.impl) {
			impls = append(impls, p.impl)
		}
		if !slices.Contains(layouts, p.layout) {
			layouts = append(layouts, p.layout)
		}
	}
	var row []*plot.Plot
	for _, op := range ops {
		p := panel(op, pts, impls, layouts)
		if p != nil {
			row = append(row, p)
		}
	}
	if len(row) == 0 {
		fail(fmt.Errorf("no train, infer or backward rows"))
	}

	img := vgimg.NewWith(vgimg.UseWH(vg.Length(*width)*vg.Inch, vg.Length(*height)*vg.Inch), vgimg.UseDPI(*dpi))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(row), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{row}, tiles, dc)
	for i, p := range row {
		p.Draw(canvases[0][i])
	}
	f, err := os.Create(*out)
	fail(err)
	_, err = vgimg.PngCanvas{Canvas: img}.WriteTo(f)
	fail(err)
	fail(f.Close())
	fmt.Fprintln(os.Stderr, "bnchart: wrote", *out)
}

func panel(op string, pts []point, impls, layouts []string) *plot.Plot {
	var mine []point
	for _, p := range pts {
		if p.op == op {
			mine = append(mine, p)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	p := plot.New()
	per := "8 B/elem"
	if op == "backward" {
		per = "12 B/elem"
	}
	p.Title.Text = fmt.Sprintf("%s (%s)", op, per)
	p.X.Label.Text = "tensor size (N*C*S*4 bytes)"
	p.Y.Label.Text = "GB/s"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.TickerFunc(sizeTicks)
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	p.Legend.Padding = vg.Points(2)

	// Roof line: copy() of the same tensor, median over the rows of each size.
	copies := map[float64][]float64{}
	for _, q := range mine {
		copies[q.bytes] = append(copies[q.bytes], q.copy)
	}
	var roof plotter.XYs
	for b, v := range copies {
		roof = append(roof, plotter.XY{X: b, Y: median(v)})
	}
	sort.Slice(roof, func(i, j int) bool { return roof[i].X < roof[j].X })
	l, err := plotter.NewLine(roof)
	fail(err)
	l.Color = color.Gray{Y: 0x60}
	l.Width = vg.Points(3)
	p.Add(l)
	p.Legend.Add("copy()", l)

	for i, impl := range impls {
		c, ok := palette[impl]
		if !ok {
			c = extra[i%len(extra)]
		}
		for _, lay := range layouts {
			var xy plotter.XYs
			for _, q := range mine {
				if q.impl == impl && q.layout == lay {
					xy = append(xy, plotter.XY{X: q.bytes, Y: q.gbps})
				}
			}
			if len(xy) == 0 {
				continue
			}
			sort.Slice(xy, func(i, j int) bool { return xy[i].X < xy[j].X })
			line, points, err := plotter.NewLinePoints(xy)
			fail(err)
			line.Color, line.Width = c, vg.Points(1.5)
			points.Color, points.Radius = c, vg.Points(2)
			points.Shape = draw.CircleGlyph{}
			name := impl
			if lay == "nhwc" {
				line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
				points.Shape = draw.BoxGlyph{}
			}
			if len(layouts) > 1 {
				name += " " + lay
			}
			p.Add(line, points)
			p.Legend.Add(name, line, points)
		}
	}
	p.Y.Max = math.Max(p.Y.Max, 1) * 1.05
	return p
}

// sizeTicks marks powers of four of a kilobyte as 64K, 256K, 1M ... with
// minor ticks at the other powers of two.
func sizeTicks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	for e := 10; e <= 40; e++ {
		v := math.Ldexp(1, e)
		if v < lo/1.01 || v > hi*1.01 {
			continue
		}
		label := ""
		if e%2 == 0 {
			switch {
			case e >= 30:
				label = fmt.Sprintf("%dG", 1<<(e-30))
			case e >= 20:
				label = fmt.Sprintf("%dM", 1<<(e-20))
			default:
				label = fmt.Sprintf("%dK", 1<<(e-10))
			}
		}
		t = append(t, plot.Tick{Value: v, Label: label})
	}
	return t
}

func read(r io.Reader) ([]point, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"bytes", "op", "layout", "impl", "gbps", "copy_gbps"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("csv has no column %q (want the output of bnbench -sizes)", h)
		}
	}
	var pts []point
	for _, rec := range rows[1:] {
		var p point
		var e1, e2, e3 error
		p.bytes, e1 = strconv.ParseFloat(rec[col["bytes"]], 64)
		p.gbps, e2 = strconv.ParseFloat(rec[col["gbps"]], 64)
		p.copy, e3 = strconv.ParseFloat(rec[col["copy_gbps"]], 64)
		if e1 != nil || e2 != nil || e3 != nil {
			return nil, fmt.Errorf("bad row %v", rec)
		}
		p.op, p.layout, p.impl = rec[col["op"]], rec[col["layout"]], rec[col["impl"]]
		pts = append(pts, p)
	}
	return pts, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bnchart:", err)
		os.Exit(1)
	}
}
