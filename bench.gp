# Draw with: gnuplot bench.gp (apt-get install gnuplot-nox)
set terminal pngcairo size 1400,700 font 'sans,11'
set output 'bench.png'
set title 'libzcopy: GB/s per fd pair and path, 1 GiB per call, page-cached source (median of 5)'
set datafile missing '-'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.9 border -1
set boxwidth 0.9
set key outside right top vertical
set termoption noenhanced
set ylabel 'GB/s, log scale (higher is better)'
set logscale y
set yrange [0.1:*]
set ytics (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
set grid ytics
set xtics nomirror
plot for [i=2:4] 'bench-chart.dat' using i:xtic(1) title columnheader(i)
