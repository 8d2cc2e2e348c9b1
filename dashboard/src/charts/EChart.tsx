// A chart (ECharts, tree-shaken: bar charts, grid, tooltip, legend, aria, SVG renderer). The container has a fixed
// height, so the page does not move when the chart library arrives.
import { BarChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { type EChartsCoreOption, init, use } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

use([BarChart, GridComponent, TooltipComponent, LegendComponent, AriaComponent, SVGRenderer]);

export const PALETTE = ['#3451d1', '#1f9d74', '#e0a100', '#d64545', '#7a5cd6', '#2a9fd6', '#8a8f9c', '#c2571a'];

export default function EChart({ option, height, label }: { option: EChartsCoreOption; height: number; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const chart = init(el.current, undefined, { renderer: 'svg' });
    chart.setOption({ color: PALETTE, aria: { enabled: true, label: { description: label } }, textStyle: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif' }, ...option });
    const ro = new ResizeObserver(() => chart.resize());
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      chart.dispose();
    };
  }, [option, label]);
  return <div ref={el} className="chart" style={{ height }} role="img" aria-label={label} />;
}
